"""A German query weighs the default encoder's e5 half more; scores keep their scale."""

from __future__ import annotations

import math

import numpy as np

from knowledge_base import e5
from knowledge_base.mixing import E5_SHARE, weigh_query

ENSEMBLE = {"encoder": {"runtime": f"{e5.ENSEMBLE}:onnx-int8", "cosine_scale": [0.35, 0.65]}}
SHIFT, SCALE = 0.35, 0.65


def _unit(rng, n=8):
    v = rng.normal(size=n)
    return v / np.linalg.norm(v)


def _pair(rng):
    """A query and a row as the ensemble stores them, with their two halves' cosines."""
    w_minilm, w_e5 = math.sqrt(1 - e5.E5_WEIGHT), math.sqrt(e5.E5_WEIGHT)
    qm, qe, rm, re_ = (_unit(rng) for _ in range(4))
    query = np.concatenate([qm * w_minilm, qe * w_e5]).astype(np.float32)
    row = np.concatenate([rm * w_minilm, re_ * w_e5]).astype(np.float32)
    return query, row, float(qm @ rm), float(qe @ re_)


def test_a_german_query_scores_the_weighted_mean_of_the_two_calibrated_cosines():
    rng = np.random.default_rng(7)
    share = E5_SHARE["de"]
    e5_shift, e5_scale = e5.COSINE_SCALE
    for _ in range(5):
        query, row, cos_minilm, cos_e5 = _pair(rng)
        weighted, shift, scale = weigh_query(query, ENSEMBLE, "de", SHIFT, SCALE)
        score = (float(weighted @ row) - shift) / scale
        expected = (1 - share) * cos_minilm + share * (cos_e5 - e5_shift) / e5_scale
        assert math.isclose(score, expected, abs_tol=1e-5)


def test_the_index_mix_is_the_same_formula_at_its_own_share():
    # Unweighted, the ensemble's calibrated score is this mean at e5's share 0.35 / 0.65 * 0.3 / 0.7
    rng = np.random.default_rng(3)
    query, row, cos_minilm, cos_e5 = _pair(rng)
    own = SHIFT / SCALE * e5.COSINE_SCALE[1] / e5.COSINE_SCALE[0]
    expected = (1 - own) * cos_minilm + own * (cos_e5 - e5.COSINE_SCALE[0]) / e5.COSINE_SCALE[1]
    assert math.isclose((float(query @ row) - SHIFT) / SCALE, expected, abs_tol=1e-5)


def test_english_queries_and_other_encoders_are_left_alone():
    query = np.ones(16, np.float32)
    assert weigh_query(query, ENSEMBLE, "en", SHIFT, SCALE)[0] is query
    assert weigh_query(query, {"encoder": {"runtime": "onnx-int8"}}, "de", 0.0, 1.0) == (query, 0.0, 1.0)
