"""Per-sender message throttling for every channel (applied in `bot.resilience.guard`).

A customer (a widget session, a Messenger user, a REST sender) may send ``BOT_MESSAGES_PER_MINUTE``
messages in any 60 seconds (default 30: faster than anyone types, slower than a script). A message
over the limit is not processed; the customer gets one polite note per window instead of silence.
Counters live in the Rasa server's memory: behind a load balancer each server counts its own share,
and nginx's per-address limit (scripts/nginx.py) stands in front of all of them.

Why not the `limits` library (Flask-Limiter's engine): it needs `packaging>=21`, Rasa 3.6 pins
`packaging<21`, so it cannot live in the Rasa environment.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable, Deque, Dict, Tuple

from core.env import Env

WINDOW_SECONDS = 60.0
MESSAGES = {
    "de": "Sie schreiben gerade sehr schnell – bitte warten Sie einen Moment, dann antworte ich wieder.",
    "en": "You're sending messages very quickly – please wait a moment and I'll answer again.",
}


def configured_limit() -> int:
    return Env().integer("BOT_MESSAGES_PER_MINUTE", 30, minimum=1)


class SenderThrottle:
    """A sliding window per sender; forgets senders idle for a window (memory stays bounded by activity)."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: Dict[str, Tuple[Deque[float], list]] = {}
        self._last_sweep = clock()

    def allow(self, sender: str) -> Tuple[bool, bool]:
        """(allowed, tell): ``tell`` is True for the first refused message of a burst only."""
        now = self.clock()
        self._sweep(now)
        times, told = self._seen.setdefault(sender, (deque(), [False]))
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            told[0] = False
            return True, False
        tell = not told[0]
        told[0] = True
        return False, tell

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < self.window:
            return
        self._last_sweep = now
        for sender in [s for s, (times, _) in self._seen.items() if not times or now - times[-1] >= self.window]:
            del self._seen[sender]


def throttled_text(language: str) -> str:
    return MESSAGES.get(language, MESSAGES["en"])
