"""Browser tier fixtures: one local stack for the whole tier (``python -m local`` in its own
process, as the smoke tier starts it), one headless Chromium, and fresh browser contexts
for every test. Stack and browser are package-scoped: they stop when the tier is done,
not at the end of a ``make test`` that goes on to other tiers.

The browser is Debian's chromium at /usr/bin/chromium (``apt-get install chromium``;
``.ci/run`` installs it). Playwright's own browser download is never used: without the
browser these tests fail, naming the package, rather than skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.services import Login, StaffApi, demo_customer
from tests.browser.steps import DESKTOP, Watch
from tests.smoke.test_local_stack import START_TIMEOUT, LocalStackProcess, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Every wait inside the browser is bounded well below pytest's patience.
ACTION_TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStackProcess]:
    """The whole helpdesk with its demo data, on a free port, until the tier is done."""
    started = LocalStackProcess(free_port())
    try:
        started.wait_for(lambda line: line == f"helpdesk ready on {started.base}", START_TIMEOUT)
        yield started
        started.stop()
    finally:
        started.kill()


@pytest.fixture(scope="package")
def customer(stack: LocalStackProcess) -> Login:
    """The demo customer, whose random password the stack printed."""
    return demo_customer(stack)


@pytest.fixture(scope="package")
def staff(stack: LocalStackProcess) -> StaffApi:
    return StaffApi(stack.base)


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests drive Debian's chromium at {CHROMIUM}, which is missing: "
            "install it with `sudo apt-get install chromium` (never `playwright install`)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def open_context(
    chromium: Browser, stack: LocalStackProcess, watch: Watch
) -> Iterator[Callable[..., BrowserContext]]:
    """Open a fresh browser context (its own cookies: another person, another device) on the
    stack; closed after the test, which must leave no console message or script error."""
    opened: list[BrowserContext] = []

    def open_one(**options: Any) -> BrowserContext:
        context = chromium.new_context(base_url=stack.base, **{"viewport": DESKTOP, **options})
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        watch.attach(context)
        opened.append(context)
        return context

    yield open_one
    for context in opened:
        context.close()
    for line in sorted(watch.advice):
        print(f"chromium advice: {line}")
    assert watch.problems == [], "\n".join(watch.problems)


@pytest.fixture
def page(open_context: Callable[..., BrowserContext]) -> Page:
    return open_context().new_page()
