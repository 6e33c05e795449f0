"""Reading settings from the environment, one way in every process (Rasa 3.10, actions, handoff service).

Each process keeps its own frozen settings object; this module only reads and checks the variables.
An empty value counts as unset. A bad value becomes one line in ``Env.problems`` naming the variable,
and the default is used meanwhile, so a caller can report every mistake at once (the handoff service
and the knowledge base raise; a channel may log and go on).
"""

from __future__ import annotations

import os
from typing import Callable, List, Mapping, Optional, Sequence, Tuple

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


class Env:
    """The environment (or a mapping a test passes in), read variable by variable."""

    def __init__(self, environ: Optional[Mapping[str, str]] = None) -> None:
        self.environ = os.environ if environ is None else environ
        self.problems: List[str] = []

    def raw(self, name: str) -> str:
        """The value without surrounding blanks; '' when unset."""
        return (self.environ.get(name) or "").strip()

    def is_set(self, name: str) -> bool:
        return bool(self.raw(name))

    def text(self, name: str, default: Optional[str] = None) -> Optional[str]:
        return self.raw(name) or default

    def integer(self, name: str, default: int, minimum: Optional[int] = 0) -> int:
        raw = self.raw(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            return self._problem(f"{name}={raw!r} is not a whole number", default)
        if minimum is not None and value < minimum:
            return self._problem(f"{name}={value} must be at least {minimum}", default)
        return value

    def number(
        self, name: str, default: float, minimum: Optional[float] = None, maximum: Optional[float] = None
    ) -> float:
        raw = self.raw(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            return self._problem(f"{name}={raw!r} is not a number", default)
        if minimum is not None and maximum is not None and not minimum <= value <= maximum:
            return self._problem(f"{name}={raw!r} must be between {minimum:g} and {maximum:g}", default)
        if minimum is not None and value < minimum:
            return self._problem(f"{name}={raw!r} must be at least {minimum:g}", default)
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.raw(name).lower()
        if not raw:
            return default
        if raw in TRUE:
            return True
        if raw in FALSE:
            return False
        return self._problem(f"{name}={raw!r}: use 1 or 0", default)

    def choice(self, name: str, default: str, choices: Sequence[str]) -> str:
        value = self.raw(name) or default
        if value not in choices:
            return self._problem(f"{name}={value!r}: use {', '.join(choices[:-1])} or {choices[-1]}", default)
        return value

    def words(self, name: str, default: Tuple[str, ...], what: str = "value") -> Tuple[str, ...]:
        """A comma-separated list, lower-cased (e.g. languages); ``what`` one of its items is called."""
        raw = self.raw(name)
        if not raw:
            return default
        words = tuple(word.strip().lower() for word in raw.split(",") if word.strip())
        return words or self._problem(f"{name} names no {what}", default)

    def checked(self, name: str, default: str, valid: Callable[[str], bool], problem: str) -> str:
        """A text that ``valid`` accepts; otherwise ``problem`` (e.g. 'is not a known time zone')."""
        value = self.raw(name) or default
        return value if valid(value) else self._problem(f"{name}={value!r} {problem}", default)

    def _problem(self, message: str, default):
        self.problems.append(message)
        return default
