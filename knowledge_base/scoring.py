"""Ranking and confidence: dense similarity, the build-time classifier and BM25, fused per entry."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .mixing import weigh_query

# Chosen on development splits (bench/), never on the figures reported; the figures behind each are in
# bench/README.md ("Scoring constants and fine-tuning", "One question per entry").
TEMPERATURE = 0.05  # cosine -> logit scale for similarity evidence
# Weight of the similarity logits beside the classifier. The confidence keeps a fixed one (the bands' thresholds
# were chosen with it); the ranking's follows the FAQ's questions per entry (similarity_weight_for): the fewer
# questions, the less the classifier has learned and the more the nearest question says.
SIMILARITY_WEIGHT = 0.05  # for the confidence, and for the ranking of FAQs with MANY_QUESTIONS or more
SIMILARITY_WEIGHT_FEW = 0.35  # for the ranking of FAQs with FEW_QUESTIONS questions per entry or fewer
FEW_QUESTIONS, MANY_QUESTIONS = 10, 30
# One question per entry (how most FAQ pages look): the classifier knows nothing the nearest question does not,
# so the similarity weighs more and the first entry's confidence comes from its margin over the runner-up.
SINGLE_QUESTION, SINGLE_UNTIL = 1, 3  # questions per entry (median): the single-question regime, blended out by 3
SIMILARITY_WEIGHT_SINGLE = 2.0
MARGIN_MIDPOINT = 0.055  # evidence margin over the runner-up at which the first entry is as likely right as not
MARGIN_SLOPE = 0.02
LEXICAL_WEIGHT = 0.2  # BM25 (normalised 0..1) in cosine units
SAME_LANGUAGE_BONUS = 0.03  # prefer a match in the customer's language among near-equal ones
IN_SCOPE_MIDPOINT = 0.45  # cosine at which a query is as likely in scope as not
IN_SCOPE_SLOPE = 0.03
# An encoder fine-tuned on the FAQ (`build --fine-tune`) draws uncovered questions of the FAQ's domain towards
# some entry too (their top cosine rises more than the covered ones'): the midpoint moves with them.
FINE_TUNED_SCOPE_SHIFT = 0.06
# A question this near an entry (the calibrated cosine of the first hit, far above the in-scope midpoint) is one
# the FAQ covers, even when the confidence is spread over several entries: it gets the list of the nearest entries,
# not a decline (KnowledgeBase._band). Chosen on bench/customer_sets/dev*.csv: the German questions declined there
# with the right entry first had 0.67-0.75, the out-of-scope ones declined at most 0.66.
CLEARLY_IN_SCOPE = 0.68
CANDIDATE_ROWS = 64
CLASSIFIER_CANDIDATES = 10


@dataclass
class Candidate:
    group: str  # entry id
    row: int  # best matching row
    cosine: float  # cosine of the query with that row
    evidence: float  # cosine plus lexical support, for ranking
    bonus: float = 0.0  # same-language preference, used for ranking only
    logit: float = 0.0  # ranking score
    confidence: float = 0.0


@dataclass(frozen=True)
class _Query:
    """One query as the scorer's steps need it."""

    vector: Any  # the encoder's vector: the classifier's input
    similar: Any  # the vector the similarities are taken with (weigh_query)
    shift: float  # cosine_scale: similarities are (cosine - shift) / scale
    scale: float
    text: str
    language: str


class Scorer:
    """Fuses the signals of one snapshot into ranked candidates with confidences."""

    def __init__(
        self,
        temperature=TEMPERATURE,
        similarity_weight=None,
        lexical_weight=LEXICAL_WEIGHT,
        midpoint=None,
        slope=IN_SCOPE_SLOPE,
    ):
        self.temperature = temperature
        self.similarity_weight = similarity_weight  # for the ranking; None: follows the questions per entry
        self.lexical_weight = lexical_weight
        self.midpoint = midpoint  # None: IN_SCOPE_MIDPOINT, moved for a fine-tuned index (midpoint_for)
        self.slope = slope

    def rank(self, state, query, text: str, language: str) -> list[Candidate]:
        """The entries for one query, best first, each with its confidence."""
        # The classifier learned on the encoder's own vectors; the similarities may weigh its halves by language.
        similar, shift, scale = weigh_query(query, state.manifest, language, *cosine_scale(state.manifest))
        asked = _Query(query, similar, shift, scale, text, language)
        best = self._nearest_entries(state, asked)
        log_probs = self._classifier_entries(state, asked, best)
        if not best:
            return []
        lexical = self._lexical(state, asked, best)
        confidence_logits = self._fuse(state, best, lexical, log_probs)
        in_scope = self._confidences(state, best, confidence_logits)
        ranked = sorted(best.values(), key=lambda c: c.logit, reverse=True)
        single = single_question_share(state.questions_per_entry)
        if single > 0.0:
            self._margin_confidence(ranked, in_scope, single)
        return ranked

    def _nearest_entries(self, state, asked: "_Query") -> dict[str, Candidate]:
        """The entries of the index's nearest rows, each at its best row."""
        limit = min(len(state.rows), CANDIDATE_ROWS)
        scores, positions = state.index.search(asked.similar[None, :], limit)
        scores = (scores - asked.shift) / asked.scale
        best: dict[str, Candidate] = {}
        seen = set()
        for score, pos in zip(scores[0].tolist(), positions[0].tolist()):
            # Rows come best first: after an entry's best row only a same-language bonus can still win.
            if pos < 0:
                continue
            if state.rows[pos].entry not in seen or len(state.languages_of) != len(state.entries):
                seen.add(state.rows[pos].entry)
                self._offer(best, state, pos, score, asked.language)
        return best

    def _classifier_entries(self, state, asked: "_Query", best: dict[str, Candidate]):
        """Adds the classifier's likeliest entries the index did not bring (at their best row) to ``best``;
        returns the classifier's log-probabilities, or None without a classifier."""
        import numpy as np

        classifier = state.classifier
        if classifier is None or not classifier.groups:
            return None
        log_probs = classifier.log_probs(asked.vector[None, :], [asked.text])[0]
        for column in np.argsort(-log_probs)[:CLASSIFIER_CANDIDATES]:
            group = classifier.groups[column]
            if group not in best and group in state.group_rows:
                rows = state.group_rows[group]
                sims = (state.vectors[rows] @ asked.similar - asked.shift) / asked.scale
                top = int(np.argmax(sims))
                self._offer(best, state, int(rows[top]), float(sims[top]), asked.language)
        return log_probs

    @staticmethod
    def _lexical(state, asked: "_Query", best: dict[str, Candidate]) -> dict[str, float]:
        """BM25 per candidate entry (its best document), empty without a lexical index."""
        lexical: dict[str, float] = {}
        if state.bm25 is None:
            return lexical
        # Only the candidates need the lexical signal; scoring every document costs more than the rest.
        docs = {doc: group for group in best for doc in state.group_docs.get(group, ())}
        for doc, value in state.bm25.scores(asked.text, asked.language, docs=list(docs)).items():
            group = docs[doc]
            lexical[group] = max(lexical.get(group, 0.0), value)
        return lexical

    def _fuse(self, state, best: dict[str, Candidate], lexical: dict[str, float], log_probs) -> dict[str, float]:
        """Sets each candidate's evidence and ranking logit; returns the logits the confidence is taken from
        (the fixed-weight fusion)."""
        import numpy as np

        column_of = state.column_of if log_probs is not None else {}
        weight = self.similarity_weight
        if weight is None:
            weight = similarity_weight_for(state.questions_per_entry)
        confidence_logits = {}
        for candidate in best.values():
            candidate.evidence = candidate.cosine + self.lexical_weight * lexical.get(candidate.group, 0.0)
            similarity = (candidate.evidence + candidate.bonus) / self.temperature
            if log_probs is None:
                candidate.logit = confidence_logits[candidate.group] = similarity
                continue
            if candidate.group in column_of:
                learned = float(log_probs[column_of[candidate.group]])
            else:  # added live after the classifier was trained
                learned = float(np.median(log_probs))
            candidate.logit = learned + weight * similarity
            confidence_logits[candidate.group] = learned + SIMILARITY_WEIGHT * similarity
        return confidence_logits

    def _confidences(self, state, best: dict[str, Candidate], confidence_logits: dict[str, float]) -> float:
        """Sets each candidate's confidence: its softmax share of the fixed-weight fusion, so that the bands mean
        the same on every FAQ, times the in-scope factor, which it returns. The scope comes from the cosine of
        the entry that fusion puts first."""
        top = max(confidence_logits.values())
        weights = {g: math.exp(v - top) for g, v in confidence_logits.items()}
        total = sum(weights.values())
        first = max(best.values(), key=lambda c: confidence_logits[c.group])
        midpoint = (
            self.midpoint if self.midpoint is not None else midpoint_for(state.manifest, state.questions_per_entry)
        )
        in_scope = self.in_scope(first.cosine, midpoint)  # lexical overlap alone says little about scope
        for candidate in best.values():
            candidate.confidence = in_scope * weights[candidate.group] / total
        return in_scope

    def _margin_confidence(self, ranked: list[Candidate], in_scope: float, share: float) -> None:
        """The single-question regime: the first entry's confidence from its evidence margin over the runner-up,
        the rest shared among the others by how near each comes to the first. Blended in by ``share``."""
        first, others = ranked[0], ranked[1:]
        lead = first.evidence + first.bonus
        runner_up = max((c.evidence + c.bonus for c in others), default=0.0)
        z = (lead - runner_up - MARGIN_MIDPOINT) / MARGIN_SLOPE
        top = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
        near = {c.group: math.exp(max(-60.0, (c.evidence + c.bonus - lead) / MARGIN_SLOPE)) for c in others}
        rest = sum(near.values()) or 1.0
        first.confidence = (1.0 - share) * first.confidence + share * in_scope * top
        for candidate in others:
            margin_based = in_scope * (1.0 - top) * near[candidate.group] / rest
            candidate.confidence = (1.0 - share) * candidate.confidence + share * margin_based

    def in_scope(self, cosine: float, midpoint: float) -> float:
        """How likely the query is covered by the FAQ at all, from the top entry's cosine."""
        z = (cosine - midpoint) / self.slope
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def _offer(self, best: dict, state, pos: int, score: float, language: str) -> None:
        entry = state.entries[state.rows[pos].entry]
        bonus = SAME_LANGUAGE_BONUS if entry.language == language else 0.0
        current = best.get(entry.id)
        if current is None or score + bonus > current.cosine + current.bonus:
            best[entry.id] = Candidate(entry.id, pos, float(score), float(score), bonus)


def band(
    confidence: float, offered: float, similarity: float, answer_threshold: float, clarify_threshold: float
) -> str:
    """answer: the top hit is likely right; clarify: the right one is likely among the first three (``offered``, the
    three best confidences together), or the question is clearly one the FAQ covers (``similarity``, the first hit's,
    at least CLEARLY_IN_SCOPE) though the confidence is spread over several entries: a list, not "I don't know"."""
    if confidence >= answer_threshold:
        return "answer"
    if offered >= clarify_threshold or similarity >= CLEARLY_IN_SCOPE:
        return "clarify"
    return "decline"


def cosine_scale(manifest: dict) -> tuple[float, float]:
    """(shift, scale) that maps the index's encoder's cosines onto the scale the constants here were chosen on
    (multilingual-e5's cosines are compressed into ~0.7-1.0; see knowledge_base/e5.py)."""
    shift, scale = (manifest.get("encoder") or {}).get("cosine_scale") or (0.0, 1.0)
    return float(shift), float(scale) or 1.0


def similarity_weight_for(questions_per_entry: float) -> float:
    """The ranking's similarity weight for an FAQ with this median number of questions per entry."""
    share = (questions_per_entry - FEW_QUESTIONS) / (MANY_QUESTIONS - FEW_QUESTIONS)
    share = min(1.0, max(0.0, share))
    weight = (1.0 - share) * SIMILARITY_WEIGHT_FEW + share * SIMILARITY_WEIGHT
    single = single_question_share(questions_per_entry)
    return (1.0 - single) * weight + single * SIMILARITY_WEIGHT_SINGLE


def single_question_share(questions_per_entry: float) -> float:
    """1 for an FAQ of one question per entry, 0 from SINGLE_UNTIL on, linear in between."""
    share = (SINGLE_UNTIL - questions_per_entry) / (SINGLE_UNTIL - SINGLE_QUESTION)
    return min(1.0, max(0.0, share))


SPARSE_QUESTIONS, DENSE_QUESTIONS = 6, 11  # questions per entry (median) where the midpoint is MiniLM's / the encoder's


def midpoint_for(manifest: dict, questions_per_entry: float | None = None) -> float:
    """The in-scope midpoint for an index; moved up when its encoder was fine-tuned on the FAQ.

    An encoder may bring its own midpoint for FAQs with many questions per entry (the default ensemble:
    knowledge_base/e5.py). The more ways an FAQ words each question, the nearer its nearest question is to an
    uncovered one as well: the demo FAQ with 11 questions per entry declines out-of-scope questions at 0.55 as
    it did at 0.45 with 5.5 (bench/README.md). In between, linear; sparser FAQs keep IN_SCOPE_MIDPOINT.
    """
    base = IN_SCOPE_MIDPOINT
    dense = (manifest.get("encoder") or {}).get("in_scope_midpoint")
    if dense is not None:
        if questions_per_entry is None:
            base = float(dense)
        else:
            share = (questions_per_entry - SPARSE_QUESTIONS) / (DENSE_QUESTIONS - SPARSE_QUESTIONS)
            base = IN_SCOPE_MIDPOINT + min(1.0, max(0.0, share)) * (float(dense) - IN_SCOPE_MIDPOINT)
    return base + (FINE_TUNED_SCOPE_SHIFT if manifest.get("fine_tuned") else 0.0)
