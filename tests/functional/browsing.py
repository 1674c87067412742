"""A small browser over ``chalice.test.Client`` for page tests: it keeps cookies as a
browser does (by name, dropped at ``Max-Age=0``), fills in the CSRF token of the last page
it read, and can follow redirects. It parses nothing else: tests read the HTML."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from chalice.test import Client

FORM = "application/x-www-form-urlencoded"
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class Page:
    """A response as a test looks at it."""

    status: int
    headers: dict[str, Any]
    text: str
    set_cookies: list[str]

    @property
    def location(self) -> str:
        return str(self.headers.get("Location", ""))

    @property
    def plain(self) -> str:
        """The text with tags dropped and entities decoded, whitespace collapsed."""
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", self.text)).split())


@dataclass
class Browser:
    client: Client
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def _send(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> Page:
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = getattr(self.client.http, method.lower())(path, headers=sent, body=body)
        raw = response.headers.get("Set-Cookie") or []
        set_cookies = [raw] if isinstance(raw, str) else list(raw)
        for cookie in set_cookies:
            pair = cookie.split(";", 1)[0]
            name, _, value = pair.partition("=")
            if "Max-Age=0" in cookie or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        page = Page(response.status_code, dict(response.headers), response.body.decode(), set_cookies)
        found = CSRF.search(page.text)
        if found:
            self.csrf = html.unescape(found.group(1))
        return page

    def get(self, path: str, follow: bool = False) -> Page:
        page = self._send("GET", path)
        return self._follow(page) if follow else page

    def post(
        self,
        path: str,
        fields: dict[str, str] | list[tuple[str, str]] | None = None,
        *,
        csrf: bool = True,
        follow: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Page:
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields or [])
        if csrf and not any(name == "csrf_token" for name, _ in pairs):
            pairs.append(("csrf_token", self.csrf))
        page = self._send("POST", path, urlencode(pairs), {"Content-Type": FORM, **(headers or {})})
        return self._follow(page) if follow else page

    def _follow(self, page: Page) -> Page:
        for _ in range(5):
            if page.status not in (301, 302, 303) or not page.location:
                return page
            page = self._send("GET", page.location.split("#", 1)[0])
        raise AssertionError("too many redirects")
