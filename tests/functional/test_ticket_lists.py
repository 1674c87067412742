"""``GET /api/tickets``: filters, the two orders, cursor pages and look-up by number."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.functional.conftest import Api
from tests.functional.desk import Desk, MovableClock

pytestmark = pytest.mark.usefixtures("clock")


def numbers(desk: Desk, query: str = "") -> list[int]:
    """Ticket numbers of one page of at most 100, in the order the API gives them."""
    response = desk.api.get(f"/api/tickets?limit=100{'&' + query if query else ''}")
    assert response.status_code == 200, response.body
    return [ticket["number"] for ticket in response.data["items"]]


def walk(desk: Desk, query: str, limit: int) -> tuple[list[int], int]:
    """Every ticket number of a list, page by page, and how many pages it took."""
    collected: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        response = desk.api.get(f"/api/tickets?limit={limit}&{query}{suffix}")
        assert response.status_code == 200, response.body
        assert len(response.data["items"]) <= limit
        collected += [ticket["number"] for ticket in response.data["items"]]
        pages += 1
        cursor = response.data["next_cursor"]
        if cursor is None:
            return collected, pages
        assert pages < 50, "the cursor never ran out"


def edit(desk: Desk, ticket: dict[str, Any], **fields: Any) -> dict[str, Any]:
    current = desk.api.get(f"/api/tickets/{ticket['id']}").data
    response = desk.api.patch(f"/api/tickets/{ticket['id']}", {**fields, "version": current["version"]})
    assert response.status_code == 200, response.body
    data: dict[str, Any] = response.data
    return data


def staff_id(desk: Desk, email: str) -> str:
    members = desk.api.get("/api/staff").data["items"]
    return str(next(member["id"] for member in members if member["email"] == email))


@pytest.fixture
def spread(desk: Desk, agent: Api) -> dict[str, Any]:
    """Four tickets that differ in every filtered dimension."""
    agent_id = staff_id(desk, "agent@example.com")
    billing = desk.ticket("cleo", category_id=desk.categories["billing"])
    technical = desk.ticket("dana", category_id=desk.categories["technical"])
    edit(desk, technical, status_id=desk.statuses["waiting"], assignee_id=agent_id)
    solved = desk.ticket("cleo", service_level_id=desk.levels["urgent"])
    edit(desk, solved, status_id=desk.statuses["solved"])
    plain = desk.ticket("dana")
    return {
        "billing": billing["number"],
        "technical": technical["number"],
        "solved": solved["number"],
        "plain": plain["number"],
        "agent_id": agent_id,
    }


# -- filters -------------------------------------------------------------------------


def test_without_filters_every_ticket_is_listed(desk: Desk, spread: dict[str, Any]) -> None:
    assert sorted(numbers(desk)) == sorted(
        [spread["billing"], spread["technical"], spread["solved"], spread["plain"]]
    )


def test_filtering_by_status(desk: Desk, spread: dict[str, Any]) -> None:
    assert numbers(desk, f"status_id={desk.statuses['waiting']}") == [spread["technical"]]
    assert sorted(numbers(desk, f"status_id={desk.statuses['new']}")) == sorted(
        [spread["billing"], spread["plain"]]
    )


def test_filtering_by_category_including_none(desk: Desk, spread: dict[str, Any]) -> None:
    assert numbers(desk, f"category_id={desk.categories['billing']}") == [spread["billing"]]
    assert sorted(numbers(desk, "category_id=none")) == sorted([spread["solved"], spread["plain"]])


def test_filtering_by_service_level(desk: Desk, spread: dict[str, Any]) -> None:
    assert numbers(desk, f"service_level_id={desk.levels['urgent']}") == [spread["solved"]]
    assert numbers(desk, f"service_level_id={desk.levels['gold']}") == [spread["billing"]]
    assert sorted(numbers(desk, f"service_level_id={desk.levels['standard']}")) == sorted(
        [spread["technical"], spread["plain"]]
    )


def test_filtering_by_assignee_and_by_no_assignee(desk: Desk, spread: dict[str, Any]) -> None:
    assert numbers(desk, f"assignee_id={spread['agent_id']}") == [spread["technical"]]
    assert sorted(numbers(desk, "assignee_id=none")) == sorted(
        [spread["billing"], spread["solved"], spread["plain"]]
    )


def test_unassigning_moves_a_ticket_back_to_the_unassigned_list(desk: Desk, spread: dict[str, Any]) -> None:
    edit(desk, {"id": str(spread["technical"])}, assignee_id=None)

    assert numbers(desk, f"assignee_id={spread['agent_id']}") == []
    assert spread["technical"] in numbers(desk, "assignee_id=none")


def test_filtering_by_contact(desk: Desk, spread: dict[str, Any]) -> None:
    assert sorted(numbers(desk, f"contact_id={desk.contacts['cleo']}")) == sorted(
        [spread["billing"], spread["solved"]]
    )


def test_filters_combine(desk: Desk, spread: dict[str, Any]) -> None:
    cleo = desk.contacts["cleo"]
    dana = desk.contacts["dana"]

    assert numbers(desk, f"contact_id={cleo}&state=open") == [spread["billing"]]
    assert numbers(desk, f"contact_id={dana}&assignee_id=none") == [spread["plain"]]
    assert numbers(desk, f"contact_id={dana}&status_id={desk.statuses['waiting']}&order=newest") == [
        spread["technical"]
    ]
    assert numbers(desk, f"category_id=none&service_level_id={desk.levels['urgent']}&state=open") == []


@pytest.mark.parametrize("order", ["priority", "newest"])
def test_filtering_by_state(desk: Desk, spread: dict[str, Any], order: str) -> None:
    assert numbers(desk, f"state=closed&order={order}") == [spread["solved"]]
    assert sorted(numbers(desk, f"state=open&order={order}")) == sorted(
        [spread["billing"], spread["technical"], spread["plain"]]
    )


def test_overdue_lists_open_tickets_past_their_resolution_target(desk: Desk, clock: MovableClock) -> None:
    # GIVEN urgent tickets (2h to resolve), one of them closed, and a gold one (24h)
    late = desk.ticket("cleo", service_level_id=desk.levels["urgent"])
    closed = desk.ticket("cleo", service_level_id=desk.levels["urgent"], status_id=desk.statuses["solved"])
    gold = desk.ticket("cleo")
    assert numbers(desk, "overdue=true") == []

    # WHEN three hours pass
    clock.advance(hours=3)

    # THEN only the open urgent one is overdue, and it says so
    assert numbers(desk, "overdue=true") == [late["number"]]
    assert numbers(desk, f"overdue=true&contact_id={desk.contacts['dana']}") == []
    listed = {ticket["number"]: ticket["overdue"] for ticket in desk.api.get("/api/tickets").data["items"]}
    assert listed == {late["number"]: True, closed["number"]: False, gold["number"]: False}
    assert sorted(numbers(desk, "overdue=false")) == sorted(
        [late["number"], closed["number"], gold["number"]]
    )


def test_closing_an_overdue_ticket_takes_it_off_the_overdue_list(desk: Desk, clock: MovableClock) -> None:
    late = desk.ticket("cleo", service_level_id=desk.levels["urgent"])
    clock.advance(hours=3)
    assert numbers(desk, "overdue=true") == [late["number"]]

    edit(desk, late, status_id=desk.statuses["solved"])

    assert numbers(desk, "overdue=true") == []


# -- order ---------------------------------------------------------------------------


def test_priority_order_is_open_first_then_service_level_rank_then_due_date(
    desk: Desk, clock: MovableClock
) -> None:
    # GIVEN tickets created in an order unrelated to their priority
    closed_urgent = desk.ticket(service_level_id=desk.levels["urgent"], status_id=desk.statuses["solved"])
    clock.advance(minutes=1)
    gold_later = desk.ticket(service_level_id=desk.levels["gold"])
    clock.advance(hours=-2)
    gold_sooner = desk.ticket(service_level_id=desk.levels["gold"])
    clock.advance(hours=3)
    standard = desk.ticket(service_level_id=desk.levels["standard"])
    desk.put_settings(default_service_level_id=None)
    no_level = desk.ticket("dana")
    urgent = desk.ticket(service_level_id=desk.levels["urgent"])

    # WHEN listed by priority (the default)
    listed = numbers(desk)

    # THEN open ones come first, by rank, earlier due date first within a rank; closed last
    assert listed == [
        urgent["number"],
        gold_sooner["number"],
        gold_later["number"],
        standard["number"],
        no_level["number"],
        closed_urgent["number"],
    ]
    assert numbers(desk, "order=priority") == listed


def test_newest_order_lists_the_latest_ticket_first(desk: Desk, clock: MovableClock) -> None:
    created = []
    for level in ("standard", "urgent", "gold"):
        created.append(desk.ticket(service_level_id=desk.levels[level])["number"])
        clock.advance(minutes=5)

    assert numbers(desk, "order=newest") == list(reversed(created))


def test_raising_a_tickets_service_level_moves_it_up_the_priority_list(desk: Desk) -> None:
    first = desk.ticket(service_level_id=desk.levels["standard"])
    second = desk.ticket(service_level_id=desk.levels["gold"])
    assert numbers(desk) == [second["number"], first["number"]]

    edit(desk, first, service_level_id=desk.levels["urgent"])

    assert numbers(desk) == [first["number"], second["number"]]


# -- cursor pages --------------------------------------------------------------------


@pytest.fixture
def many(desk: Desk, clock: MovableClock) -> list[int]:
    """Eleven tickets, every third one closed, spread over time."""
    created = []
    for position in range(11):
        status = desk.statuses["solved"] if position % 3 == 0 else desk.statuses["new"]
        created.append(desk.ticket(status_id=status)["number"])
        clock.advance(minutes=7)
    return created


@pytest.mark.parametrize(
    "query",
    [
        "order=priority",
        "order=newest",
        "order=newest&state=open",
        "state=closed",
        "category_id=none&state=open",
    ],
)
def test_cursor_pages_walk_the_whole_list_without_duplicates_or_gaps(
    desk: Desk, many: list[int], query: str
) -> None:
    whole = numbers(desk, query)
    assert len(whole) >= 4

    for limit in (1, 3, 4):
        walked, pages = walk(desk, query, limit)

        assert walked == whole, limit
        assert pages >= len(whole) // limit


def test_a_single_page_has_no_next_cursor(desk: Desk, many: list[int]) -> None:
    response = desk.api.get("/api/tickets?limit=100")

    assert len(response.data["items"]) == len(many)
    assert response.data["next_cursor"] is None


def first_cursor(desk: Desk, query: str = "") -> str:
    cursor = desk.api.get(f"/api/tickets?limit=2&{query}").data["next_cursor"]
    assert isinstance(cursor, str)
    return cursor


def tamper(cursor: str, position: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[position] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


@pytest.mark.parametrize("position", [0, 15, 16, -2, -1])
def test_a_tampered_cursor_is_422_naming_cursor(desk: Desk, many: list[int], position: int) -> None:
    cursor = tamper(first_cursor(desk), position)

    response = desk.api.get(f"/api/tickets?limit=2&cursor={cursor}")

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == "cursor"


@pytest.mark.parametrize("cursor", ["garbage", "%25%25%25", "AAAA", "-_-_", "x" * 300])
def test_a_cursor_that_was_never_issued_is_422(desk: Desk, many: list[int], cursor: str) -> None:
    response = desk.api.get(f"/api/tickets?cursor={cursor}")

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == "cursor"


@pytest.mark.parametrize(
    ("issued_for", "used_for"),
    [
        ("order=priority", "order=newest"),
        ("state=open", "state=closed"),
        ("state=open", ""),
        ("category_id=none", "status_id={new}"),
        ("status_id={new}", "status_id={solved}"),
        ("status_id={new}", "status_id={new}&contact_id={cleo}"),
    ],
)
def test_a_cursor_from_one_list_is_refused_by_another(
    desk: Desk, many: list[int], issued_for: str, used_for: str
) -> None:
    names = {**desk.statuses, **desk.contacts}
    cursor = first_cursor(desk, issued_for.format(**names))

    response = desk.api.get(f"/api/tickets?limit=2&{used_for.format(**names)}&cursor={cursor}")

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == "cursor"


def test_a_cursor_is_accepted_by_the_list_it_came_from(desk: Desk, many: list[int]) -> None:
    cursor = first_cursor(desk, "state=open")

    response = desk.api.get(f"/api/tickets?limit=2&state=open&cursor={cursor}")

    assert response.status_code == 200, response.body
    assert len(response.data["items"]) == 2


# -- look-up by number and bad parameters --------------------------------------------


def test_number_finds_exactly_that_ticket(desk: Desk, many: list[int]) -> None:
    response = desk.api.get(f"/api/tickets?number={many[4]}")

    assert response.status_code == 200
    assert [ticket["number"] for ticket in response.data["items"]] == [many[4]]
    assert response.data["next_cursor"] is None


@pytest.mark.parametrize("number", ["999999", "0"])
def test_number_of_no_ticket_finds_nothing(desk: Desk, many: list[int], number: str) -> None:
    response = desk.api.get(f"/api/tickets?number={number}")

    assert response.status_code == 200
    assert response.data["items"] == []


@pytest.mark.parametrize("number", ["abc", "-5", "1.5", "1" * 11, ""])
def test_a_number_that_is_not_a_ticket_number_is_422(desk: Desk, many: list[int], number: str) -> None:
    response = desk.api.get(f"/api/tickets?number={number}")

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == "number"


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", ""])
def test_a_limit_out_of_range_is_422(desk: Desk, limit: str) -> None:
    response = desk.api.get(f"/api/tickets?limit={limit}")

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == "limit"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=pending", "state"),
        ("order=oldest", "order"),
        ("overdue=yes", "overdue"),
        ("status_id=bad%20id", "status_id"),
        ("assignee_id=a%2Fb", "assignee_id"),
        ("sort=priority", "sort"),
    ],
)
def test_a_bad_query_parameter_is_422_naming_it(desk: Desk, query: str, field: str) -> None:
    response = desk.api.get(f"/api/tickets?{query}")

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == field


def test_listing_needs_a_signed_in_staff_member(desk: Desk, anonymous: Api) -> None:
    desk.ticket()

    assert anonymous.get("/api/tickets").status_code == 401
