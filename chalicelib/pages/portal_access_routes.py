"""Getting into the portal: register, confirm, reset a password, accept an invite, and
confirm a new email asked for on the account page.

Registration and reset answer with the same "check your email" page whatever the address;
the links those emails carry open pages that change nothing until their form is sent.
A link that has been used, has expired or was altered gets one page that says so.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.domain import portal_access, portal_account, portal_auth
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.observability import count, logger
from chalicelib.pages import web
from chalicelib.pages.portal_web import (
    PREFIX,
    SESSION_COOKIE,
    SESSION_COOKIE_AGE,
    Visit,
    anonymous,
    checked_form,
    client_address,
    page,
    portal_view,
)
from chalicelib.store.models import Contact

bp = Blueprint(__name__)

CHECK_EMAIL = {
    "register": "If this address can have an account, we have sent it an email with what to do next.",
    "reset": ("If this address belongs to an account, we have emailed it a link to choose a new password."),
}


def _signed_in_as(contact: Contact, path: str = PREFIX) -> Response:
    """Start a session for a contact who just proved who they are, and go to ``path`` (the
    overview unless told)."""
    value = portal_auth.start_session(contact)
    return web.redirect(path, [web.set_cookie(SESSION_COOKIE, value, SESSION_COOKIE_AGE)])


# -- registration --------------------------------------------------------------------


@bp.route("/portal/register", methods=["GET"])
@portal_view
def register_page() -> Response:
    visit = anonymous(bp)
    if not visit.config.settings.get("registration_enabled"):
        raise NotFound(portal_access.REGISTRATION_CLOSED)
    return page("portal/register.html", visit=visit, form={}, error=None)


@bp.route("/portal/register", methods=["POST"], content_types=[web.FORM])
@portal_view
def register() -> Response:
    visit = anonymous(bp)
    form = checked_form(bp, ("name", "email", "password"), visit.binding)
    try:
        portal_access.register(visit.config, form, client_address(bp.current_request))
    except InvalidInput as exc:
        kept = {"name": form.get("name", ""), "email": form.get("email", "")}
        return page("portal/register.html", visit=visit, form=kept, error=exc, status=422)
    count("PortalRegistrations")
    return page("portal/check_email.html", visit=visit, message=CHECK_EMAIL["register"])


@bp.route("/portal/register/confirm/{token}", methods=["GET"])
@portal_view
def confirm_page(token: str) -> Response:
    visit = anonymous(bp)
    contact = portal_access.linked_contact(token, "confirm")
    return _confirm_form(visit, token, contact.email)


@bp.route("/portal/register/confirm/{token}", methods=["POST"], content_types=[web.FORM])
@portal_view
def confirm(token: str) -> Response:
    """Confirm with the registered password, then sign in."""
    visit = anonymous(bp)
    form = checked_form(bp, ("password",), visit.binding)
    try:
        contact = portal_access.confirm(token, form)
    except InvalidInput as exc:
        return _confirm_form(visit, token, portal_access.linked_contact(token, "confirm").email, exc, 422)
    logger.info("portal registration confirmed", extra={"contact_id": contact.id})
    return _signed_in_as(contact)


def _confirm_form(
    visit: Visit, token: str, email: str, error: InvalidInput | None = None, status: int = 200
) -> Response:
    return page("portal/confirm.html", visit=visit, token=token, email=email, error=error, status=status)


# -- password reset ------------------------------------------------------------------


@bp.route("/portal/password-reset", methods=["GET"])
@portal_view
def reset_request_page() -> Response:
    visit = anonymous(bp)
    return page("portal/reset_request.html", visit=visit, email="", error=None)


@bp.route("/portal/password-reset", methods=["POST"], content_types=[web.FORM])
@portal_view
def reset_request() -> Response:
    visit = anonymous(bp)
    form = checked_form(bp, ("email",), visit.binding)
    try:
        portal_access.request_reset(form, client_address(bp.current_request))
    except InvalidInput as exc:
        return page(
            "portal/reset_request.html", visit=visit, email=form.get("email", "")[:254], error=exc, status=422
        )
    count("PortalResetsRequested")
    return page("portal/check_email.html", visit=visit, message=CHECK_EMAIL["reset"])


@bp.route("/portal/password-reset/{token}", methods=["GET"])
@portal_view
def reset_page(token: str) -> Response:
    visit = anonymous(bp)
    return _password_form(visit, token, "reset")


@bp.route("/portal/password-reset/{token}", methods=["POST"], content_types=[web.FORM])
@portal_view
def reset(token: str) -> Response:
    return _set_password(token, "reset")


# -- invites -------------------------------------------------------------------------


@bp.route("/portal/invite/{token}", methods=["GET"])
@portal_view
def invite_page(token: str) -> Response:
    visit = anonymous(bp)
    return _password_form(visit, token, "invite")


@bp.route("/portal/invite/{token}", methods=["POST"], content_types=[web.FORM])
@portal_view
def accept_invite(token: str) -> Response:
    return _set_password(token, "invite")


def _set_password(token: str, purpose: str) -> Response:
    """Set the password a reset or invite link allows, then sign in."""
    visit = anonymous(bp)
    form = checked_form(bp, ("password",), visit.binding)
    try:
        contact = portal_access.set_password_from_link(token, purpose, form)
    except InvalidInput as exc:
        return _password_form(visit, token, purpose, exc, 422)
    logger.info("portal password set", extra={"contact_id": contact.id, "purpose": purpose})
    return _signed_in_as(contact)


def _password_form(
    visit: Visit, token: str, purpose: str, error: InvalidInput | None = None, status: int = 200
) -> Response:
    # The link is checked each time its form is shown; its contact's email goes in a hidden
    # username field, so a password manager knows which account the new password is for.
    contact = portal_access.linked_contact(token, purpose)
    action = f"{PREFIX}/password-reset/{token}" if purpose == "reset" else f"{PREFIX}/invite/{token}"
    heading = "Choose a new password" if purpose == "reset" else "Set your password"
    return page(
        "portal/set_password.html",
        visit=visit,
        action=action,
        heading=heading,
        email=contact.email,
        error=error,
        status=status,
    )


# -- a new email ---------------------------------------------------------------------


@bp.route("/portal/email/{token}", methods=["GET"])
@portal_view
def email_page(token: str) -> Response:
    visit = anonymous(bp)
    return _email_form(visit, token)


@bp.route("/portal/email/{token}", methods=["POST"], content_types=[web.FORM])
@portal_view
def confirm_email(token: str) -> Response:
    """Make the new address the account's email with the account's password, then sign in
    afresh (every other browser is signed out) and show the account page."""
    visit = anonymous(bp)
    form = checked_form(bp, ("password",), visit.binding)
    try:
        contact = portal_account.confirm_email(token, form)
    except InvalidInput as exc:
        return _email_form(visit, token, exc, 422)
    count("PortalEmailsChanged")
    logger.info("portal email changed", extra={"contact_id": contact.id})
    return _signed_in_as(contact, f"{PREFIX}/account?email=changed")


def _email_form(visit: Visit, token: str, error: InvalidInput | None = None, status: int = 200) -> Response:
    # Checked each time it is shown. The hidden username field for a password manager holds
    # the new address, the one the account signs in with next: whoever opens the link reads
    # mail there, and must not learn the account's current address from the page.
    contact = portal_access.linked_contact(token, "email")
    return page(
        "portal/confirm_email.html",
        visit=visit,
        token=token,
        email=contact.pending_email,
        error=error,
        status=status,
    )
