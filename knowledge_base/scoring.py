"""Ranking and confidence: dense similarity, the build-time classifier and BM25, fused per entry."""
from __future__ import annotations

import math
from dataclasses import dataclass

from .mixing import weigh_query

# Chosen on development splits (bench/), never on the figures reported:
TEMPERATURE = 0.05          # cosine -> logit scale for similarity evidence
# Weight of the similarity logits beside the classifier. For the confidence it is fixed (the bands'
# thresholds were chosen with it). For the ranking it follows the FAQ's shape: with few questions per
# entry the classifier has little to learn from and the nearest question says more; with many, the
# classifier knows better. Dev splits (bench/kb_tune.py): Banking77 10 per entry best at 0.35 (+1.2 pts
# over 0.05), CLINC150 (90 per entry) at 0.05-0.1.
SIMILARITY_WEIGHT = 0.05       # for the confidence, and for the ranking of FAQs with MANY_QUESTIONS or more
SIMILARITY_WEIGHT_FEW = 0.35   # for the ranking of FAQs with FEW_QUESTIONS questions per entry or fewer
FEW_QUESTIONS, MANY_QUESTIONS = 10, 30
# One question per entry (how most FAQ pages look) is a regime of its own: a classifier that saw one example per
# entry knows nothing the nearest question does not, and its softmax share tells right from wrong poorly. Proxy
# FAQs of one question per entry (bench/kb_single_question.py, dev queries): top-1 60.7 -> 65.4 % (Banking77) and
# 74.1 -> 75.7 % (CLINC150) with the similarity weight 2 instead of 0.35; from 3 questions per entry on 0.35 is
# best again. How far the first entry's evidence stands out from the runner-up's separates right from wrong
# first hits best there (ROC area 0.84-0.86, against 0.66-0.72 for the softmax share; even at 2 questions per
# entry, the softmax better from 3 on), so the first entry's confidence comes from that margin.
SINGLE_QUESTION, SINGLE_UNTIL = 1, 3  # questions per entry (median): the single-question regime, blended out by 3
SIMILARITY_WEIGHT_SINGLE = 2.0
MARGIN_MIDPOINT = 0.055  # evidence margin over the runner-up at which the first entry is as likely right as not
MARGIN_SLOPE = 0.02
LEXICAL_WEIGHT = 0.2        # BM25 (normalised 0..1) in cosine units
SAME_LANGUAGE_BONUS = 0.03  # prefer a match in the customer's language among near-equal ones
IN_SCOPE_MIDPOINT = 0.45    # cosine at which a query is as likely in scope as not
IN_SCOPE_SLOPE = 0.03
# An encoder fine-tuned on the FAQ (`build --fine-tune`) draws every question of the FAQ's domain
# towards some entry, the ones it does not cover too: on the CLINC150 dev split their top cosine rose
# by 0.058 (median; 100 questions per intent, 1 pass) and 0.074 (10 per intent, 3.6 passes), whereas
# the covered questions' rose by 0.02-0.03. The midpoint moves with them.
FINE_TUNED_SCOPE_SHIFT = 0.06
CANDIDATE_ROWS = 64
CLASSIFIER_CANDIDATES = 10


@dataclass
class Candidate:
    group: str        # entry id
    row: int          # best matching row
    cosine: float     # cosine of the query with that row
    evidence: float   # cosine plus lexical support, for ranking
    bonus: float = 0.0  # same-language preference, used for ranking only
    logit: float = 0.0       # ranking score
    confidence: float = 0.0


class Scorer:
    """Fuses the signals of one snapshot into ranked candidates with confidences."""

    def __init__(self, temperature=TEMPERATURE, similarity_weight=None, lexical_weight=LEXICAL_WEIGHT,
                 midpoint=None, slope=IN_SCOPE_SLOPE):
        self.temperature = temperature
        self.similarity_weight = similarity_weight  # for the ranking; None: follows the questions per entry
        self.lexical_weight = lexical_weight
        self.midpoint = midpoint  # None: IN_SCOPE_MIDPOINT, moved for a fine-tuned index (midpoint_for)
        self.slope = slope

    def rank(self, state, query, text: str, language: str) -> list[Candidate]:
        import numpy as np

        # The classifier learned on the encoder's own vectors; the similarities may weigh its halves by language.
        shift, scale = cosine_scale(state.manifest)
        similar, shift, scale = weigh_query(query, state.manifest, language, shift, scale)
        limit = min(len(state.rows), CANDIDATE_ROWS)
        scores, positions = state.index.search(similar[None, :], limit)
        scores = (scores - shift) / scale
        best: dict[str, Candidate] = {}
        seen = set()
        for score, pos in zip(scores[0].tolist(), positions[0].tolist()):
            # Rows come best first: after an entry's best row only a same-language bonus can still win.
            if pos < 0:
                continue
            if state.rows[pos].entry not in seen or len(state.languages_of) != len(state.entries):
                seen.add(state.rows[pos].entry)
                self._offer(best, state, pos, score, language)
        classifier = state.classifier
        log_probs = None
        if classifier is not None and classifier.groups:
            log_probs = classifier.log_probs(query[None, :], [text])[0]
            for column in np.argsort(-log_probs)[:CLASSIFIER_CANDIDATES]:
                group = classifier.groups[column]
                if group not in best and group in state.group_rows:
                    rows = state.group_rows[group]
                    sims = (state.vectors[rows] @ similar - shift) / scale
                    top = int(np.argmax(sims))
                    self._offer(best, state, int(rows[top]), float(sims[top]), language)
        if not best:
            return []
        lexical = {}
        if state.bm25 is not None:
            # Only the candidates need the lexical signal; scoring every document costs more than the rest.
            docs = {doc: group for group in best for doc in state.group_docs.get(group, ())}
            for doc, value in state.bm25.scores(text, language, docs=list(docs)).items():
                group = docs[doc]
                lexical[group] = max(lexical.get(group, 0.0), value)
        column_of = state.column_of if log_probs is not None else {}
        weight = self.similarity_weight
        if weight is None:
            weight = similarity_weight_for(state.questions_per_entry)
        single = single_question_share(state.questions_per_entry)
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
        # Confidence: the fixed-weight fusion, so that the bands mean the same on every FAQ; the scope
        # comes from the cosine of the entry that fusion puts first.
        top = max(confidence_logits.values())
        weights = {g: math.exp(v - top) for g, v in confidence_logits.items()}
        total = sum(weights.values())
        first = max(best.values(), key=lambda c: confidence_logits[c.group])
        midpoint = self.midpoint if self.midpoint is not None else midpoint_for(state.manifest, state.questions_per_entry)
        in_scope = self.in_scope(first.cosine, midpoint)  # lexical overlap alone says little about scope
        for candidate in best.values():
            candidate.confidence = in_scope * weights[candidate.group] / total
        ranked = sorted(best.values(), key=lambda c: c.logit, reverse=True)
        if single > 0.0:
            self._margin_confidence(ranked, in_scope, single)
        return ranked

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
