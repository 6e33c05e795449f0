"""Ranking and confidence: dense similarity, the build-time classifier and BM25, fused per entry."""
from __future__ import annotations

import math
from dataclasses import dataclass

# Chosen on development splits (bench/), never on the figures reported:
TEMPERATURE = 0.05          # cosine -> logit scale for similarity evidence
SIMILARITY_WEIGHT = 0.05    # weight of the similarity logits when the classifier is present
LEXICAL_WEIGHT = 0.2        # BM25 (normalised 0..1) in cosine units
SAME_LANGUAGE_BONUS = 0.03  # prefer a match in the customer's language among near-equal ones
IN_SCOPE_MIDPOINT = 0.45    # cosine at which a query is as likely in scope as not
IN_SCOPE_SLOPE = 0.03
CANDIDATE_ROWS = 64
CLASSIFIER_CANDIDATES = 10


@dataclass
class Candidate:
    group: str        # entry id
    row: int          # best matching row
    cosine: float     # cosine of the query with that row
    evidence: float   # cosine plus lexical support, for ranking
    bonus: float = 0.0  # same-language preference, used for ranking only
    logit: float = 0.0
    confidence: float = 0.0


class Scorer:
    """Fuses the signals of one snapshot into ranked candidates with confidences."""

    def __init__(self, temperature=TEMPERATURE, similarity_weight=SIMILARITY_WEIGHT, lexical_weight=LEXICAL_WEIGHT,
                 midpoint=IN_SCOPE_MIDPOINT, slope=IN_SCOPE_SLOPE, use_classifier=True, use_lexical=True,
                 use_answers=True):
        self.temperature = temperature
        self.similarity_weight = similarity_weight
        self.lexical_weight = lexical_weight
        self.midpoint = midpoint
        self.slope = slope
        self.use_classifier = use_classifier
        self.use_lexical = use_lexical
        self.use_answers = use_answers

    def rank(self, state, query, text: str, language: str) -> list[Candidate]:
        import numpy as np

        limit = min(len(state.rows), CANDIDATE_ROWS)
        scores, positions = state.index.search(query[None, :], limit)
        best: dict[str, Candidate] = {}
        seen = set()
        for score, pos in zip(scores[0].tolist(), positions[0].tolist()):
            # Rows come best first: after an entry's best row only a same-language bonus can still win.
            if pos < 0 or (state.rows[pos].kind == "a" and not self.use_answers):
                continue
            if state.rows[pos].entry not in seen or len(state.languages_of) != len(state.entries):
                seen.add(state.rows[pos].entry)
                self._offer(best, state, pos, score, language)
        classifier = state.classifier if self.use_classifier else None
        log_probs = None
        if classifier is not None and classifier.groups:
            log_probs = classifier.log_probs(query[None, :], [text])[0]
            for column in np.argsort(-log_probs)[:CLASSIFIER_CANDIDATES]:
                group = classifier.groups[column]
                if group not in best and group in state.group_rows:
                    rows = state.group_rows[group]
                    sims = state.vectors[rows] @ query
                    if not self.use_answers:
                        sims = np.where([state.rows[r].kind == "q" for r in rows.tolist()], sims, -1.0)
                    top = int(np.argmax(sims))
                    self._offer(best, state, int(rows[top]), float(sims[top]), language)
        if not best:
            return []
        lexical = {}
        if self.use_lexical and state.bm25 is not None:
            # Only the candidates need the lexical signal; scoring every document costs more than the rest.
            docs = {doc: group for group in best for doc in state.group_docs.get(group, ())}
            for doc, value in state.bm25.scores(text, language, docs=list(docs)).items():
                group = docs[doc]
                lexical[group] = max(lexical.get(group, 0.0), value)
        column_of = state.column_of if log_probs is not None else {}
        for candidate in best.values():
            candidate.evidence = candidate.cosine + self.lexical_weight * lexical.get(candidate.group, 0.0)
            similarity = (candidate.evidence + candidate.bonus) / self.temperature
            if log_probs is not None and candidate.group in column_of:
                candidate.logit = float(log_probs[column_of[candidate.group]]) + self.similarity_weight * similarity
            elif log_probs is not None:
                candidate.logit = float(np.median(log_probs)) + self.similarity_weight * similarity
            else:
                candidate.logit = similarity
        ranked = sorted(best.values(), key=lambda c: c.logit, reverse=True)
        top = ranked[0].logit
        weights = [math.exp(c.logit - top) for c in ranked]
        total = sum(weights)
        in_scope = self.in_scope(ranked[0].cosine)  # lexical overlap alone says little about scope
        for candidate, weight in zip(ranked, weights):
            candidate.confidence = in_scope * weight / total
        return ranked

    def in_scope(self, cosine: float) -> float:
        """How likely the query is covered by the FAQ at all, from the top entry's cosine."""
        z = (cosine - self.midpoint) / self.slope
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def _offer(self, best: dict, state, pos: int, score: float, language: str) -> None:
        row = state.rows[pos]
        if row.kind == "a" and not self.use_answers:
            return
        entry = state.entries[row.entry]
        bonus = SAME_LANGUAGE_BONUS if entry.language == language else 0.0
        current = best.get(entry.id)
        if current is None or score + bonus > current.cosine + current.bonus:
            best[entry.id] = Candidate(entry.id, pos, float(score), float(score), bonus)
