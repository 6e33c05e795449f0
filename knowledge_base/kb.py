"""The loaded knowledge base: search with a confidence and a band, lookup, reload and live edits."""
from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .index import read_index, read_manifest
from .settings import Settings
from .sources import relative_checksums
from .types import Entry, FAQError, Hit, SearchResult

SAME_LANGUAGE_BONUS = 0.03  # cosine points: prefer the customer's language among near-equal matches
CANDIDATE_ROWS = 64


@dataclass
class _State:
    """One immutable snapshot of an index; searches read it while a reload builds the next one."""

    manifest: dict
    entries: list[Entry]
    rows: list
    vectors: object
    index: object
    detector: object
    by_key: dict = field(default_factory=dict)
    languages_of: dict = field(default_factory=dict)


class KnowledgeBase:
    """Search FAQ entries; create with :func:`load_knowledge_base`."""

    def __init__(self, settings: Settings, state: _State, encode=None):
        self.settings = settings
        self._state = state
        self._encode = encode
        self._lock = threading.Lock()
        self._manifest_stamp = _stamp(settings.index_dir)

    # -- public API -------------------------------------------------------------------------
    @property
    def manifest(self) -> dict:
        return self._state.manifest

    @property
    def entries(self) -> list[Entry]:
        return list(self._state.entries)

    def encode(self, texts: list[str]):
        if self._encode is None:
            from .encoder import make_encoder

            self._encode = make_encoder(self.settings.model)
        vectors = self._encode(texts)
        if vectors.shape[1] != self._state.manifest["dims"]:
            raise FAQError(
                f"the model gives {vectors.shape[1]}-dimensional vectors, the index at {self.settings.index_dir} "
                f"holds {self._state.manifest['dims']}; rebuild the index with this model")
        return vectors

    def detect_language(self, text: str) -> str:
        return self._state.detector.detect(text)

    def get(self, entry_id: str, language: str | None = None) -> Entry | None:
        """The entry in ``language`` if it exists, else in another language, else None."""
        state = self._state
        if language is not None and (entry_id, language) in state.by_key:
            return state.by_key[(entry_id, language)]
        for lang in state.languages_of.get(entry_id, ()):
            return state.by_key[(entry_id, lang)]
        return None

    def search(self, text: str, language: str | None = None, k: int = 5) -> SearchResult:
        """Rank entries for ``text``; the band says whether to answer, ask back or decline."""
        state = self._state
        language = language or self.detect_language(text)
        if not text or not text.strip():
            return SearchResult("decline", 0.0, language, [])
        query = self.encode([text])
        limit = min(len(state.rows), max(CANDIDATE_ROWS, 8 * k))
        scores, positions = state.index.search(query, limit)
        best: dict[str, tuple[float, float, int]] = {}  # id -> (ranking score, cosine, row)
        for score, pos in zip(scores[0].tolist(), positions[0].tolist()):
            if pos < 0:
                continue
            entry = state.entries[state.rows[pos].entry]
            ranking = score + (SAME_LANGUAGE_BONUS if entry.language == language else 0.0)
            current = best.get(entry.id)
            if current is None or ranking > current[0]:
                best[entry.id] = (ranking, score, pos)
        ranked = sorted(best.items(), key=lambda item: item[1][0], reverse=True)
        confidences = _confidences([r[1][0] for r in ranked])
        hits = []
        for (entry_id, (ranking, cosine, pos)), confidence in list(zip(ranked, confidences))[:k]:
            matched = state.entries[state.rows[pos].entry]
            shown = self.get(entry_id, language) or matched
            row = state.rows[pos]
            question = row.text if row.kind == "q" else matched.questions[0]
            if shown.language != matched.language:
                question = shown.questions[0]
            hits.append(Hit(entry_id=entry_id, language=shown.language, question=question, answer=shown.answer,
                            url=shown.url, tags=list(shown.tags), score=float(cosine), confidence=float(confidence)))
        top = hits[0].confidence if hits else 0.0
        return SearchResult(self._band(top), top, language, hits)

    def reload_if_changed(self) -> bool:
        """Load the index again when its manifest changed on disk (a rebuild); True if it did."""
        stamp = _stamp(self.settings.index_dir)
        if stamp == self._manifest_stamp:
            return False
        with self._lock:
            if stamp == self._manifest_stamp:
                return False
            manifest = read_manifest(self.settings.index_dir)
            if manifest.get("build_id") == self._state.manifest.get("build_id"):
                self._manifest_stamp = stamp
                return False
            self._state = _load_state(self.settings, self._encode)
            self._manifest_stamp = stamp
            return True

    # -- internals --------------------------------------------------------------------------
    def _band(self, confidence: float) -> str:
        if confidence >= self.settings.answer_threshold:
            return "answer"
        if confidence >= self.settings.clarify_threshold:
            return "clarify"
        return "decline"


def _confidences(scores: list[float]) -> list[float]:
    """How likely each candidate is the right answer: in-scope likelihood times its share among rivals."""
    if not scores:
        return []
    in_scope = 1.0 / (1.0 + math.exp(-(scores[0] - 0.55) / 0.05))
    weights = [math.exp((s - scores[0]) / 0.03) for s in scores]
    total = sum(weights)
    return [in_scope * w / total for w in weights]


def _stamp(index_dir: Path):
    try:
        st = (Path(index_dir) / "manifest.json").stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _load_state(settings: Settings, encode=None) -> _State:
    import faiss

    from .language import LanguageDetector

    manifest, entries, rows, vectors = read_index(settings.index_dir)
    _check_manifest(settings, manifest, encode)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    counts = Counter(e.language for e in entries)
    default_language = counts.most_common(1)[0][0] if counts else "en"
    detector = LanguageDetector.from_file(Path(settings.index_dir) / "language.json", default=default_language)
    state = _State(manifest, entries, rows, vectors, index, detector)
    for entry in entries:
        state.by_key[entry.key] = entry
        state.languages_of.setdefault(entry.id, []).append(entry.language)
    for entry_id, langs in state.languages_of.items():
        langs.sort(key=lambda lang: -counts[lang])
    return state


def _check_manifest(settings: Settings, manifest: dict, encode=None) -> None:
    if encode is not None:
        expected = getattr(encode, "model_name", "custom")
    else:
        from .encoder import model_fingerprint, resolve_model_dir

        expected = model_fingerprint(resolve_model_dir(settings.model))
    if manifest.get("model") != expected:
        raise FAQError(
            f"{settings.index_dir}: index was built with model {manifest.get('model')!r}, but the configured model is "
            f"{expected!r} (KB_MODEL); rebuild the index with `python -m knowledge_base build`")
    faq = Path(settings.faq_path)
    if settings.check_sources and manifest.get("sources") and faq.exists():
        current = relative_checksums(faq)
        if current != manifest["sources"]:
            changed = sorted(set(current.items()) ^ set(manifest["sources"].items()))
            names = sorted({name for name, _ in changed})
            raise FAQError(
                f"{settings.index_dir}: index is stale: FAQ source(s) {', '.join(names)} under {faq} changed since the "
                "index was built; run `python -m knowledge_base build`")


def load_knowledge_base(settings: Settings | None = None, encode=None) -> KnowledgeBase:
    """Open the index named by ``settings`` (checked against its manifest); the model loads on first use."""
    settings = settings or Settings.from_env()
    return KnowledgeBase(settings, _load_state(settings, encode), encode)
