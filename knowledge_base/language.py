"""German/English detection for short customer messages, from unigram word probabilities."""
from __future__ import annotations

import functools
import gzip
import json
import math
import re
from pathlib import Path

LANGUAGES = ("de", "en")
VOCABULARY_SIZE = 60_000  # most frequent words kept per language; enough for chat messages
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_GERMAN_LETTERS = re.compile(r"[äöüß]", re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def word_log_probs() -> dict[str, dict[str, float]]:
    """Per language the log probability of its most frequent lower-cased words (spacy-lookups-data)."""
    import spacy_lookups_data

    folder = Path(spacy_lookups_data.__file__).parent / "data"
    tables = {}
    for language in LANGUAGES:
        with gzip.open(folder / f"{language}_lexeme_prob.json.gz", "rt", encoding="utf-8") as handle:
            raw = json.load(handle)
        merged: dict[str, float] = {}
        for word, logp in raw.items():
            if not _WORD.fullmatch(word):
                continue
            key = word.lower()
            previous = merged.get(key)
            merged[key] = logp if previous is None else _logaddexp(previous, logp)
        top = sorted(merged.items(), key=lambda kv: kv[1], reverse=True)[:VOCABULARY_SIZE]
        tables[language] = {w: round(p, 3) for w, p in top}
    return tables


def _logaddexp(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    return hi + math.log1p(math.exp(lo - hi))


class LanguageDetector:
    """Scores a text under a German and an English unigram model; falls back to a default when unsure."""

    def __init__(self, tables: dict[str, dict[str, float]], default: str = "en", extra: dict[str, set[str]] | None = None):
        self.tables = tables
        self.default = default
        self.floor = {lang: min(table.values()) - 2.0 for lang, table in tables.items()}
        self.extra = extra or {}  # words that occur only in one language's FAQ entries

    @classmethod
    def from_file(cls, path: Path, default: str = "en") -> "LanguageDetector":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["tables"], default=default, extra={k: set(v) for k, v in data.get("extra", {}).items()})

    @staticmethod
    def save(path: Path, extra: dict[str, set[str]] | None = None) -> None:
        payload = {"tables": word_log_probs(), "extra": {k: sorted(v) for k, v in (extra or {}).items()}}
        Path(path).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")

    def scores(self, text: str) -> dict[str, float]:
        """Log-likelihood difference per language (higher = more likely), summed over the words."""
        totals = {lang: 0.0 for lang in LANGUAGES}
        for word in _WORD.findall(text.lower()):
            for lang in LANGUAGES:
                table = self.tables.get(lang, {})
                logp = table.get(word, self.floor.get(lang, -20.0))
                if word in self.extra.get(lang, ()):
                    logp = max(logp, -8.0)
                totals[lang] += logp
        if _GERMAN_LETTERS.search(text):
            totals["de"] += 6.0
        return totals

    def detect(self, text: str) -> str:
        totals = self.scores(text)
        margin = totals["de"] - totals["en"]
        if abs(margin) < 0.5:
            return self.default
        return "de" if margin > 0 else "en"
