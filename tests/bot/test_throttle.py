"""Per-sender throttling: a sliding window, one note per burst, idle senders forgotten."""

from __future__ import annotations

from bot.throttle import SenderThrottle, configured_limit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window_per_sender_with_one_note_per_burst():
    clock = Clock()
    throttle = SenderThrottle(3, window=60, clock=clock)
    assert [throttle.allow("a") for _ in range(3)] == [(True, False)] * 3
    assert throttle.allow("a") == (False, True)  # the first refusal is explained
    assert throttle.allow("a") == (False, False)  # the rest of the burst is dropped quietly
    assert throttle.allow("b") == (True, False)  # others are not affected
    clock.now += 59.9
    assert throttle.allow("a") == (False, False)
    clock.now += 0.2  # the first burst left the window
    assert [throttle.allow("a") for _ in range(3)] == [(True, False)] * 3
    assert throttle.allow("a") == (False, True)  # a new burst is explained again


def test_idle_senders_are_forgotten():
    clock = Clock()
    throttle = SenderThrottle(2, window=60, clock=clock)
    for sender in range(100):
        throttle.allow(f"s{sender}")
    clock.now += 61
    throttle.allow("new")
    assert list(throttle._seen) == ["new"]


def test_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("BOT_MESSAGES_PER_MINUTE", "12")
    assert configured_limit() == 12
    monkeypatch.setenv("BOT_MESSAGES_PER_MINUTE", "lots")
    assert configured_limit() == 30
