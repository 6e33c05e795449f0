"""How much each half of the default encoder counts for a query, by the query's language.

The default encoder concatenates the packaged MiniLM (trained on English) and multilingual-e5-small
(knowledge_base/e5.py). On the calibrated scale the scoring constants were chosen on, the halves' shares follow
from the cosine scales: MiniLM's cosine counts 0.77, e5's calibrated cosine 0.23. That suits English; for a German
query MiniLM sees little more than shared sub-words, and e5 ranks German better (bench/README.md, "Customers' own
words"). A German query therefore weighs e5's half more: its vector's halves are scaled, and the scale that maps
its dot products onto the calibrated scale is chosen so that a score is still a weighted mean of the two
calibrated cosines (the same range, the same in-scope midpoint, the same meaning for the request matcher).
English queries, and indexes built with another encoder, are left as they are.
"""

from __future__ import annotations

# e5's share of the calibrated score, per query language (others: the index's own mix). Chosen on
# bench/customer_sets/dev*.csv and on the FAQ's customer-worded questions held out of an older index.
E5_SHARE = {"de": 0.7}


def weigh_query(query, manifest: dict, language: str, shift: float, scale: float):
    """``(query, shift, scale)`` for ``language``: unchanged unless the index is the default ensemble and
    :data:`E5_SHARE` names the language."""
    from . import e5

    share = E5_SHARE.get(language)
    encoder = manifest.get("encoder") or {}
    if share is None or not str(encoder.get("runtime", "")).startswith(f"{e5.ENSEMBLE}:"):
        return query, shift, scale
    half = query.shape[-1] // 2
    e5_shift, e5_scale = e5.COSINE_SCALE
    # The index stores [minilm * sqrt(1 - E5_WEIGHT), e5 * sqrt(E5_WEIGHT)]; a query scaled by (a, b) gives
    # dot = a' cos_minilm + b' cos_e5. We want dot / scale - shift' = (1 - share) cos_minilm
    # + share (cos_e5 - e5_shift) / e5_scale.
    minilm_weight, e5_weight = (1.0 - e5.E5_WEIGHT) ** 0.5, e5.E5_WEIGHT**0.5
    weighted = query.copy()
    weighted[:half] *= scale * (1.0 - share) / minilm_weight**2
    weighted[half:] *= scale * share / e5_scale / e5_weight**2
    return weighted, scale * share * e5_shift / e5_scale, scale
