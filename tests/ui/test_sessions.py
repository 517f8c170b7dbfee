"""One generation at a time per browser session."""

from __future__ import annotations

from types import SimpleNamespace

from photomaker.ui.sessions import OneAtATime


def test_a_second_claim_of_the_same_session_is_refused_until_the_first_ends() -> None:
    running = OneAtATime()
    tab, other_tab = SimpleNamespace(session_hash="a"), SimpleNamespace(session_hash="b")
    with running.claim(tab) as first:
        with running.claim(tab) as double_click, running.claim(other_tab) as elsewhere:
            assert (first, double_click, elsewhere) == (True, False, True)
        with running.claim(tab) as still_running:
            assert still_running is False
        assert running.busy(tab) and not running.busy(other_tab), "the refused click ended; the first runs on"
    assert not running.busy(tab)
    with running.claim(tab) as later:
        assert later is True


def test_a_call_without_a_session_is_never_blocked() -> None:
    running = OneAtATime()
    with running.claim(None) as first, running.claim(None) as second:
        assert first and second
