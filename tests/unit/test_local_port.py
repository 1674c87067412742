"""``make run``'s PORT: a typo stops the runner with one clear line, never a traceback."""

from __future__ import annotations

import pytest

from local.runner import StartupError, port_from_env


@pytest.mark.parametrize("raw", ["", "80a", "\u00b2", "0", "65536", "-1", " 8000"])
def test_a_port_that_is_no_port_number_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("PORT", raw)

    with pytest.raises(StartupError, match="PORT must be a port number from 1 to 65535"):
        port_from_env()


def test_a_port_number_is_taken_and_the_default_is_8000(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    assert port_from_env() == 8123
    monkeypatch.delenv("PORT")
    assert port_from_env() == 8000
