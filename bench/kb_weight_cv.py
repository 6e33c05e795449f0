"""Could a build pick the ranking's similarity weight itself, by cross-validation over the FAQ's own questions?

For each development split of bench/kb_tune.py: the top-1 accuracy on the dev queries per similarity weight
(classifier log-probabilities + weight * best question cosine / temperature, as the ranking fuses them,
without the answer rows and BM25), next to the same figure from K folds of the FAQ's own questions (each
fold ranked by a classifier trained on the other folds). If the weight the folds pick is the one dev picks,
a build could choose it without labelled queries. `--model DIR` scores with an encoder fine-tuned on that
split's FAQ (bench/kb_tune.py --fine-tune --save-model): its folds were seen in training, so their figures
run high, and the question is only whether they still point to the right weight.
Findings (bench/README.md): the folds point the right way on the default build with many questions per
entry, move with the fold split at 10 per entry, and cost five classifiers: not used by `build`.
Usage: .venv/bin/python bench/kb_weight_cv.py [--only b77|b77-10|clinc ...] [--model DIR] [--folds 5]
"""

import argparse
import json
from pathlib import Path

import numpy as np
from common import CachedEncoder
from kb_tune import splits

from knowledge_base.build.training import train_classifier
from knowledge_base.scoring import TEMPERATURE

WEIGHTS = [0.05, 0.1, 0.2, 0.35, 0.7, 1.0, 2.0, 4.0]


def rankings(train_vectors, train_labels, train_texts, vectors, texts, n_entries: int) -> dict[float, np.ndarray]:
    """The entry ranked first for each query, per similarity weight."""
    cosines = vectors @ train_vectors.T
    best = np.full((len(vectors), n_entries), -1.0)
    for entry in range(n_entries):
        mine = train_labels == entry
        if mine.any():
            best[:, entry] = cosines[:, mine].max(1)
    classifier = train_classifier(train_vectors, train_labels.tolist(), n_entries, texts=train_texts)
    log_probs = classifier.log_probs(vectors, texts)
    return {w: (log_probs + w * best / TEMPERATURE).argmax(1) for w in WEIGHTS}


def percent(right: int, total: int) -> float:
    return round(100.0 * right / max(1, total), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["b77", "b77-10", "clinc"], nargs="*")
    parser.add_argument("--model", type=Path, metavar="DIR", help="a model directory instead of the packaged one")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    encode = CachedEncoder(model=str(args.model) if args.model else None)
    for name, faq_pairs, dev in splits():
        if args.only and name not in args.only:
            continue
        dev = [(t, label) for t, label in dev if label != "oos"]  # ranking only: the in-scope queries
        names = sorted({label for _, label in faq_pairs})
        column = {n: i for i, n in enumerate(names)}
        texts = [t for t, _ in faq_pairs]
        labels = np.array([column[label] for _, label in faq_pairs])
        vectors = encode(texts)
        dev_texts = [t for t, _ in dev]
        dev_labels = np.array([column[label] for _, label in dev])
        on_dev = rankings(vectors, labels, texts, encode(dev_texts), dev_texts, len(names))
        dev_figures = {w: percent(int((got == dev_labels).sum()), len(dev)) for w, got in on_dev.items()}
        # Stratified folds: each entry's questions spread over all of them.
        rng = np.random.default_rng(0)
        fold = np.zeros(len(texts), dtype=int)
        for entry in range(len(names)):
            rows = np.flatnonzero(labels == entry)
            rng.shuffle(rows)
            fold[rows] = np.arange(len(rows)) % args.folds
        right = dict.fromkeys(WEIGHTS, 0)
        for k in range(args.folds):
            train, held = fold != k, fold == k
            got = rankings(
                vectors[train],
                labels[train],
                [t for t, m in zip(texts, train) if m],
                vectors[held],
                [t for t, m in zip(texts, held) if m],
                len(names),
            )
            for w in WEIGHTS:
                right[w] += int((got[w] == labels[held]).sum())
        fold_figures = {w: percent(right[w], len(texts)) for w in WEIGHTS}
        dev_pick = max(WEIGHTS, key=dev_figures.get)
        fold_pick = max(WEIGHTS, key=fold_figures.get)
        print(f"== {name}: {len(texts)} FAQ questions, {len(dev)} dev queries, model {encode.model_name}", flush=True)
        print(json.dumps({"dev_top1": dev_figures, "folds_top1": fold_figures}), flush=True)
        print(
            json.dumps(
                {
                    "dev_picks": dev_pick,
                    "folds_pick": fold_pick,
                    "dev_top1_at_folds_pick": dev_figures[fold_pick],
                    "dev_top1_best": dev_figures[dev_pick],
                }
            ),
            flush=True,
        )
    encode.save()


if __name__ == "__main__":
    main()
