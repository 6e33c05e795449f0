"""The knowledge base's scorer with signals switched off, for the benches' baselines and ablations.

The product always fuses every signal the index has; to measure what each adds, a bench ranks on a view
of the index without it: no classifier, no BM25, or only the questions (answers never match).
"""

from __future__ import annotations

import dataclasses

from knowledge_base.scoring import Scorer


class AblationScorer(Scorer):
    """:class:`~knowledge_base.scoring.Scorer` (same arguments) minus the signals switched off here."""

    def __init__(self, use_classifier: bool = True, use_lexical: bool = True, use_answers: bool = True, **scorer):
        super().__init__(**scorer)
        self.use_classifier = use_classifier
        self.use_lexical = use_lexical
        self.use_answers = use_answers
        self._view: tuple = (None, None)  # (state, its view): one index is re-run at a time

    def rank(self, state, query, text: str, language: str):
        return super().rank(self._view_of(state), query, text, language)

    def _view_of(self, state):
        seen, view = self._view
        if seen is not state:
            changes = {}
            if not self.use_classifier:
                changes["classifier"] = None
            if not self.use_lexical:
                changes["bm25"] = None
            if not self.use_answers:
                changes["index"] = _QuestionsOnly(state.index, ~state.row_is_question)
                changes["group_rows"] = {
                    group: rows[state.row_is_question[rows]] for group, rows in state.group_rows.items()
                }
            view = dataclasses.replace(state, **changes)
            self._view = (state, view)
        return view


class _QuestionsOnly:
    """A search index whose answer rows are never found (reported as -1, like an empty slot)."""

    def __init__(self, index, is_answer):
        self.index = index
        self.is_answer = is_answer

    def search(self, queries, k: int):
        import numpy as np

        scores, positions = self.index.search(queries, k)
        hidden = (positions >= 0) & self.is_answer[positions.clip(min=0)]
        return scores, np.where(hidden, -1, positions)
