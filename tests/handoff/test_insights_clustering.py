"""Unanswered questions grouped with the real embedding model: similar ones together, largest first."""
from __future__ import annotations

from handoff.services.analytics import cluster_questions

from tests.handoff.insights_support import encoder


def test_similar_questions_cluster_together_largest_first():
    texts = [
        "Can I pay with bitcoin?", "Is paying in bitcoin possible?", "can I pay with  BITCOIN?",
        "How do I cancel my contract?", "I want to terminate my contract",
        "Where is the nearest shop?",
    ]
    encode = encoder()
    # 0.5 on the knowledge base's scale, mapped onto the default encoder's raw cosines (as build_report does).
    shift, scale = getattr(encode, "cosine_scale", (0.0, 1.0))
    clusters = cluster_questions(texts, encode, threshold=shift + scale * 0.5)
    assert [sorted(indices) for indices, _ in clusters] == [[0, 1, 2], [3, 4], [5]]
    first_examples = clusters[0][1]
    assert first_examples[0] == "can I pay with BITCOIN?" or first_examples[0] == "Can I pay with bitcoin?"
    assert len(first_examples) == 2  # the repeated question is shown once


def test_no_questions_no_clusters_and_no_model_call():
    def fail(_texts):
        raise AssertionError("encoder called")

    assert cluster_questions(["", "   "], fail) == []
