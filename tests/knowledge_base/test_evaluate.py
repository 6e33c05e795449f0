"""Eval figures computed from known outcomes."""

from knowledge_base.build.evaluate import Outcome, Query, metrics
from knowledge_base.types import Hit, SearchResult


def outcome(label, ranked, band, confidence=0.9, ms=1.0):
    hits = [Hit(e, "en", "q", "a", None, [], 0.5, 0.1) for e in ranked]
    return Outcome(Query("text", label), SearchResult(band, confidence, "en", hits), ms)


def test_metrics_on_known_outcomes():
    outcomes = [
        outcome("a", ["a", "b", "c"], "answer", ms=1),  # right, answered
        outcome("b", ["a", "b", "c"], "answer", ms=2),  # wrong first, in top 3, answered
        outcome("c", ["c", "a", "b"], "decline", ms=3),  # right but declined
        outcome("d", ["c", "d", "a"], "clarify", ms=4),  # in top 3 only
        outcome("oos", ["a"], "decline", ms=5),
        outcome("oos", ["a"], "clarify", ms=6),
    ]
    m = metrics(outcomes)
    assert m["n"] == 6
    assert m["top1_accuracy"] == 0.5
    assert m["top3_accuracy"] == 1.0
    assert m["in_scope_accuracy"] == 0.25
    assert m["oos_recall"] == 0.5
    assert m["answer_rate"] == 0.5
    assert m["answered_precision"] == 0.5
    assert m["p50_ms"] == 3.5
    assert m["p95_ms"] == 5.75


def test_thresholds_recompute_bands():
    outcomes = [outcome("a", ["a"], "decline", confidence=0.6), outcome("oos", ["a"], "answer", confidence=0.1)]
    m = metrics(outcomes, answer_threshold=0.5, clarify_threshold=0.2)
    assert m["answer_rate"] == 1.0 and m["oos_recall"] == 1.0


def test_a_question_clearly_in_scope_is_offered_a_list_when_bands_are_recomputed():
    from knowledge_base.scoring import CLEARLY_IN_SCOPE

    def spread(score):  # the confidence spread over near entries, the nearest question close
        hits = [Hit(e, "en", "q", "a", None, [], score, 0.05) for e in ("a", "b", "c")]
        return Outcome(Query("text", "a"), SearchResult("decline", 0.05, "en", hits), 1.0)

    near, far = spread(CLEARLY_IN_SCOPE + 0.01), spread(CLEARLY_IN_SCOPE - 0.05)
    assert metrics([near], answer_threshold=0.5, clarify_threshold=0.45)["in_scope_accuracy"] == 1.0
    assert metrics([far], answer_threshold=0.5, clarify_threshold=0.45)["in_scope_accuracy"] == 0.0


def test_calibrate_meets_the_precision_and_keeps_answerable_queries():
    from knowledge_base.build.evaluate import calibrate

    def o(label, top, confidence):
        hits = [Hit(top, "en", "q", "a", None, [], 0.5, confidence)]
        return Outcome(Query("t", label), SearchResult("answer", confidence, "en", hits), 1.0)

    outcomes = [
        o("a", "a", 0.9),
        o("a", "a", 0.8),
        o("a", "b", 0.7),
        o("a", "a", 0.6),
        o("oos", "a", 0.3),
        o("oos", "a", 0.2),
        o("a", "a", 0.4),
    ]
    chosen = calibrate(outcomes, precision=1.0, keep=1.0)
    assert chosen["answer_threshold"] == 0.8  # 0.9 and 0.8 are right; adding 0.7 drops precision
    assert chosen["clarify_threshold"] == 0.4  # lets every answerable query through, declines both oos
    relaxed = calibrate(outcomes, precision=0.75, keep=0.75)
    assert relaxed["answer_threshold"] == 0.6  # 0.4 would do for precision, but it is declined now
    assert relaxed["clarify_threshold"] == 0.6  # keeps 3 of the 4 answerable queries
