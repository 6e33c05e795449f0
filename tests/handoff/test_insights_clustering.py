"""Unanswered questions grouped with the real embedding model: similar ones together, largest first."""

from __future__ import annotations

from handoff.services.analytics import cluster_questions

from tests.handoff.insights_support import encoder


def test_similar_questions_cluster_together_largest_first():
    texts = [
        "Can I pay with bitcoin?",
        "Is paying in bitcoin possible?",
        "can I pay with  BITCOIN?",
        "How do I cancel my contract?",
        "I want to terminate my contract",
        "Where is the nearest shop?",
    ]
    encode = encoder()
    # 0.45 on the knowledge base's scale, mapped onto the default encoder's raw cosines (as build_report does).
    shift, scale = getattr(encode, "cosine_scale", (0.0, 1.0))
    clusters = cluster_questions(texts, encode, threshold=shift + scale * 0.45)
    assert [c.indices for c in clusters] == [[0, 1, 2], [3, 4], [5]]
    assert clusters[0].medoid == "Can I pay with bitcoin?"  # asked twice: the most typical
    assert len(clusters[0].distinct) == 2  # the repeated question is shown once


def test_unrelated_one_offs_stay_apart_and_the_medoid_leads():
    """The issue's first cluster: broken headphones, a stolen phone, the weather in Hamburg. Greedy centroids
    merged them; average linkage keeps them apart and groups the three router questions."""
    texts = [
        "My headphones are broken",
        "My phone was stolen",
        "What's the weather in Hamburg?",
        "router keeps restarting",
        "My router reboots every few minutes",
        "the router restarts itself all the time",
    ]
    encode = encoder()
    shift, scale = encode.cosine_scale
    clusters = cluster_questions(texts, encode, threshold=shift + scale * 0.45)
    assert clusters[0].indices == [3, 4, 5]
    assert clusters[0].medoid in texts[3:]
    assert sorted(c.indices for c in clusters[1:]) == [[0], [1], [2]]


def test_no_questions_no_clusters_and_no_model_call():
    def fail(_texts):
        raise AssertionError("encoder called")

    assert cluster_questions(["", "   "], fail) == []


def test_the_examples_that_tell_requests_from_questions_are_there_and_in_the_handoff_image():
    from handoff.services.question_kinds import NLU_DIR, QUESTION, REQUEST, SMALL_TALK, examples
    from tests.deploy.files import DOCKERFILES
    from tests.deploy.test_dockerfiles import stages

    kinds = {kind for _, kind in examples()}
    assert kinds == {QUESTION, REQUEST, SMALL_TALK}
    assert sum(kind == REQUEST for _, kind in examples()) > 100  # both languages, request_human + request_callback
    handoff_stage = stages(DOCKERFILES["app"])["handoff"]
    copied = [i["value"] for i in handoff_stage if i["instruction"] == "COPY"]
    assert f"{NLU_DIR.parent.name}/{NLU_DIR.name} {NLU_DIR.parent.name}/{NLU_DIR.name}" in copied
