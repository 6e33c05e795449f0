"""How much the nearest question weighs beside the classifier follows the FAQ's questions per entry."""
from knowledge_base.scoring import (SIMILARITY_WEIGHT_FEW, SIMILARITY_WEIGHT_MANY, Scorer, similarity_weight_for)


def test_few_questions_per_entry_trust_the_nearest_question_more():
    assert similarity_weight_for(1) == similarity_weight_for(10) == SIMILARITY_WEIGHT_FEW
    assert similarity_weight_for(30) == similarity_weight_for(500) == SIMILARITY_WEIGHT_MANY
    weights = [similarity_weight_for(n) for n in range(1, 60)]
    assert weights == sorted(weights, reverse=True)
    assert SIMILARITY_WEIGHT_MANY < similarity_weight_for(20) < SIMILARITY_WEIGHT_FEW


def test_a_fixed_weight_overrides_the_rule():
    assert Scorer().similarity_weight is None
    assert Scorer(similarity_weight=0.2).similarity_weight == 0.2


def test_index_knows_its_questions_per_entry(kb):
    # The test FAQ has a few questions per entry (translations count with their entry).
    state = kb._state
    assert 2 <= state.questions_per_entry <= 10
