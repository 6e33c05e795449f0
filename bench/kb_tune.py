"""Choose the scoring constants on development splits only (never on the figures the other benches report).

Builds each development FAQ once and re-ranks its dev queries under a grid of scorer settings:
- Banking77, all questions and 10 per entry: the "dev" half of the held-out 20 % (kb_banking77.py reports on the other half);
- CLINC150: 10 training questions per intent taken out of the FAQ + the 100 oos_train questions
  (kb_clinc150.py reports on val + oos_val).
Prints top-1 (and CLINC's in-scope accuracy / out-of-scope recall at the default thresholds) per setting.
Usage: .venv/bin/python bench/kb_tune.py [--only b77|b77-10|clinc] [--grid midpoint=0.45,0.41 ...] [--fine-tune]
A fine-tuned encoder takes minutes to tens of minutes to train; `--fine-tune --save-model DIR` keeps it and
`--only NAME --model DIR` searches the grid with it again without training (it was tuned on that split's FAQ);
`--fine-tune --model DIR` tunes that model instead of the packaged one.
"""

import argparse
import itertools
import json
import shutil
import tempfile
from pathlib import Path

from common import (
    CachedEncoder,
    banking77,
    clinc150,
    evaluate,
    add_fine_tune_arguments,
    fine_tune_options,
    rerun,
    sample_per_label,
    split_per_label,
    write_faq,
)

from knowledge_base import scoring
from knowledge_base.build.evaluate import metrics
from knowledge_base.index import TUNED_MODEL_DIR
from knowledge_base.settings import DEFAULT_ANSWER_THRESHOLD

GRID = {
    "similarity_weight": [0.05, 0.1, 0.2, 0.35, 0.5],
    "lexical_weight": [0.0, 0.1, 0.2, 0.4],
}


def splits():
    faq_pairs, held = split_per_label(banking77(), 0.2)
    dev, _test = split_per_label(held, 0.5)
    yield "b77", faq_pairs, dev
    yield "b77-10", sample_per_label(faq_pairs, 10), dev
    data = clinc150()
    faq_pairs, held = split_per_label(data["train"], 10)
    yield "clinc", faq_pairs, held + data["oos_train"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["b77", "b77-10", "clinc"], nargs="*")
    parser.add_argument(
        "--grid",
        nargs="*",
        default=[],
        metavar="NAME=V1,V2",
        help="search these Scorer arguments instead of the default grid",
    )
    add_fine_tune_arguments(parser)
    parser.add_argument(
        "--save-model",
        type=Path,
        metavar="DIR",
        help="with --fine-tune: keep each split's tuned encoder in DIR/<split>",
    )
    parser.add_argument(
        "--model",
        type=Path,
        metavar="DIR",
        help="encode with this model directory (e.g. saved by --save-model for the split named by --only) "
        "instead of the packaged one; the grid's midpoint then defaults to the fine-tuned one. "
        "With --fine-tune: the base model to tune (e.g. var/models/all-mpnet-base-v2)",
    )
    args = parser.parse_args()
    tuned_model = args.model and not args.fine_tune  # a model tuned before, on the split named by --only
    if tuned_model and (not args.only or len(args.only) != 1):
        parser.error("--model without --fine-tune needs exactly one --only split (the one the model was tuned on)")
    if args.save_model and not args.fine_tune:
        parser.error("--save-model needs --fine-tune")
    grid = GRID
    if args.grid:
        grid = {}
        for item in args.grid:
            key, _, values = item.partition("=")
            grid[key] = [float(v) for v in values.split(",")]
    encode = CachedEncoder(model=str(args.model) if args.model else None)
    defaults = {"midpoint": scoring.IN_SCOPE_MIDPOINT + scoring.FINE_TUNED_SCOPE_SHIFT} if tuned_model else {}
    for name, faq_pairs, dev in splits():
        if args.only and name not in args.only:
            continue
        encode.warm([t for t, _ in faq_pairs + dev])
        with tempfile.TemporaryDirectory() as tmp:
            faq = write_faq(faq_pairs, Path(tmp) / "faq.yml")
            options = fine_tune_options(args)
            _, outcomes, kb, build_s = evaluate(faq, dev, encode, keep_dir=Path(tmp), options=options, progress=False)
            if args.save_model:
                target = args.save_model / name
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(Path(tmp) / "index" / TUNED_MODEL_DIR, target)
                print(f"tuned encoder kept in {target} (use it with --only {name} --model {target})", flush=True)
            print(
                f"== {name}: {len(faq_pairs)} FAQ questions, {len(dev)} dev queries, build {build_s:.0f} s", flush=True
            )
            rows = []
            for values in itertools.product(*grid.values()):
                setting = dict(zip(grid, values))
                figures, _ = rerun(kb, dev, **{**defaults, **setting})
                rows.append((setting, figures))
                print(
                    json.dumps(
                        {
                            **setting,
                            "top1": figures["top1_accuracy"],
                            "in_scope": figures["in_scope_accuracy"],
                            "oos_recall": figures["oos_recall"],
                        }
                    ),
                    flush=True,
                )
            if tuned_model:  # the index does not know its encoder was tuned: score as a tuned index would
                _, outcomes = rerun(kb, dev, **defaults)
            for clarify in (0.1, 0.15, 0.2, 0.25, 0.3):  # outcomes of the build's own (default) scorer
                figures = metrics(outcomes, DEFAULT_ANSWER_THRESHOLD, clarify)
                print(
                    json.dumps(
                        {
                            "default scorer, clarify_threshold": clarify,
                            "in_scope": figures["in_scope_accuracy"],
                            "oos_recall": figures["oos_recall"],
                        }
                    ),
                    flush=True,
                )
            best = max(rows, key=lambda r: (r[1]["in_scope_accuracy"], r[1]["top1_accuracy"]))
            current = {"similarity_weight": scoring.SIMILARITY_WEIGHT, "lexical_weight": scoring.LEXICAL_WEIGHT}
            print(
                f"best on {name}: {json.dumps(best[0])} -> {json.dumps(best[1])}; current constants {current}",
                flush=True,
            )
    encode.save()


if __name__ == "__main__":
    main()
