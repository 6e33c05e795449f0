"""Is an unanswered message a question at all? Requests for a person and small talk, told apart by meaning.

The bot's NLU training data (``data/nlu/*.yml``) has thousands of labelled examples in both languages: questions
for the knowledge base (``ask_question``, including the look-alikes of control intents), requests for a person or
a call, and small talk and control moves (hello, thanks, yes, "this is useless"). A message the knowledge base
declined is put in the class of its nearest example, encoded with the knowledge base's own encoder; it leaves the
"unanswered questions" only when that example is a request or small talk and near enough.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from core.nlu_data import NLU_DIR, intent_examples
from knowledge_base.vector_cache import cached_vectors

logger = logging.getLogger(__name__)
QUESTION, REQUEST, SMALL_TALK = "question", "request", "small_talk"
QUESTION_INTENTS = ("ask_question",)
REQUEST_INTENTS = ("request_human", "request_callback")
# Intents Rasa receives only from the handoff service or as button payloads: no customer words to compare with.
NOT_CUSTOMER_WORDS = (
    "agent_message",
    "agent_joined",
    "handoff_ended",
    "callback_update",
    "choose_entry",
    "satisfaction",
)
# On the knowledge base's similarity scale (manifest cosine_scale), chosen on bench/customer_sets/dev*.csv
# (bench/insights_clustering.py): nearer than this to a request or small-talk example, and nearer to it than to
# any question example.
MIN_SIMILARITY = 0.6


def kind_of_intent(intent: str) -> str | None:
    if intent in QUESTION_INTENTS:
        return QUESTION
    if intent in REQUEST_INTENTS:
        return REQUEST
    if intent in NOT_CUSTOMER_WORDS:
        return None
    return SMALL_TALK


def examples(folder: Path = NLU_DIR) -> list[tuple[str, str]]:
    """(text, kind) for every customer example of the NLU training data; empty when the folder is missing."""
    found: list[tuple[str, str]] = []
    for path in sorted(folder.glob("*.yml")) if folder.is_dir() else []:
        for intent, text in intent_examples(path):
            kind = kind_of_intent(intent)
            if kind is not None and not text.startswith("/"):
                found.append((text, kind))
    return list(dict.fromkeys(found))


@dataclass
class QuestionKinds:
    """Nearest labelled example per message; ``scale`` maps raw cosines onto the knowledge base's scale."""

    encode: Callable[[list[str]], Any]
    scale: tuple[float, float] = (0.0, 1.0)
    min_similarity: float = MIN_SIMILARITY
    folder: Path = NLU_DIR
    cache_dir: Path | None = None  # the examples' vectors, per model and examples, so a restart skips encoding them
    model_name: str | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._vectors: Any = None
        self._kinds: list[str] = []

    def _load(self) -> None:
        import numpy as np

        with self._lock:
            if self._vectors is None:
                labelled = examples(self.folder)
                self._kinds = [kind for _, kind in labelled]
                vectors = self._cached([t for t, _ in labelled])
                self._vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def _cached(self, texts: list[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, 1), np.float32)
        return cached_vectors(self.encode, texts, self.model_name or "", self.cache_dir)

    def classify(self, texts: Iterable[str]) -> list[str]:
        """``question``, ``request`` or ``small_talk`` per text (an empty text is a question: its words were erased)."""
        import numpy as np

        texts = list(texts)
        self._load()
        kinds = [QUESTION] * len(texts)
        readable = [i for i, t in enumerate(texts) if t.strip()]
        if not readable or not self._kinds:
            return kinds
        queries = np.asarray(self.encode([texts[i] for i in readable]), dtype=np.float32)
        queries /= np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
        sims = queries @ self._vectors.T
        best = sims.argmax(axis=1)
        shift, scale = self.scale
        for row, i in enumerate(readable):
            kind = self._kinds[int(best[row])]
            if kind != QUESTION and (float(sims[row, best[row]]) - shift) / scale >= self.min_similarity:
                kinds[i] = kind
        return kinds
