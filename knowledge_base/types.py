"""Plain value types shared by the knowledge base: entries, hits, results and the error type."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core.vocabulary import LANGUAGES as SUPPORTED_LANGUAGES

__all__ = ["BANDS", "SUPPORTED_LANGUAGES", "Entry", "FAQError", "Hit", "SearchResult"]

BANDS = ("answer", "clarify", "decline")


class FAQError(ValueError):
    """A FAQ source or an index directory is unusable; the message says where and why."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


@dataclass
class Entry:
    """One FAQ entry in one language; the same id in two languages are translations of each other."""

    id: str
    language: str
    questions: list[str]
    answer: str
    tags: list[str] = field(default_factory=list)
    url: str | None = None
    source: str | None = None
    line: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.language)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Entry":
        return cls(
            id=str(data["id"]),
            language=str(data["language"]),
            questions=[str(q) for q in data["questions"]],
            answer=str(data["answer"]),
            tags=[str(t) for t in data.get("tags") or []],
            url=data.get("url"),
            source=data.get("source"),
            line=data.get("line"),
        )


@dataclass
class Hit:
    """One ranked candidate entry for a query."""

    entry_id: str
    language: str
    question: str
    answer: str
    url: str | None
    tags: list[str]
    score: float
    confidence: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SearchResult:
    """What the bot acts on: a band, a confidence in the top hit, the query language and the hits."""

    band: str
    confidence: float
    language: str
    hits: list[Hit]

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    def to_dict(self) -> dict:
        return {
            "band": self.band,
            "confidence": self.confidence,
            "language": self.language,
            "hits": [h.to_dict() for h in self.hits],
        }
