"""CLINC150 as an FAQ (150 entries) with out-of-scope questions: default and calibrated thresholds.

Default thresholds: FAQ = the 15,000 training questions, queries = the 3,000 validation questions
plus the 100 out-of-scope validation questions (never used for tuning).
Calibrated: 10 questions per intent are taken out of the FAQ and, with the 100 out-of-scope
training questions, form the calibration set for `calibrate`; the thresholds it picks are then
measured on the same validation queries.
The FAQs are built as `build` builds by default: the full one (15,000 questions) with the packaged encoder
fine-tuned on it, the calibration one too; queries then go through the tuned encoder. --no-fine-tune builds
without, --fine-tune [--epochs N] tunes whatever the size.
Usage: .venv/bin/python bench/kb_clinc150.py [--precision 0.95] [--keep 0.99] [--only default|calibrated]
       [--fine-tune | --no-fine-tune]
"""

import argparse
import os
import tempfile
from pathlib import Path

from common import (
    CachedEncoder,
    add_fine_tune_arguments,
    clinc150,
    evaluate,
    fine_tune_options,
    rerun,
    show,
    split_per_label,
    write_faq,
)

from knowledge_base.build.evaluate import calibrate, metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", type=float, default=0.95)
    parser.add_argument("--keep", type=float, default=0.99)
    parser.add_argument("--only", choices=["default", "calibrated"], help="run one part only")
    add_fine_tune_arguments(parser)
    parser.add_argument(
        "--model",
        default=os.environ.get("KB_MODEL") or None,
        metavar="DIR",
        help="sentence-transformers model directory (default: $KB_MODEL, else the packaged MiniLM)",
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    data = clinc150()
    test = data["val"] + data["oos_val"]
    encode = CachedEncoder(model=args.model)
    encode.warm([t for t, _ in data["train"] + test + data["oos_train"]])
    if args.only != "calibrated":
        default_thresholds(data, test, encode, args)
    if args.only != "default":
        calibrated_thresholds(data, test, encode, args)
    encode.save()


def default_thresholds(data, test, encode, args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        faq = write_faq(data["train"], Path(tmp) / "faq.yml")
        figures, _, kb, build_s = evaluate(
            faq, test, encode, keep_dir=Path(tmp), progress=not args.no_progress, options=fine_tune_options(args)
        )
        figures.update(build_s=round(build_s, 1))
        if kb.manifest.get("fine_tuned"):
            figures["fine_tuned"] = kb.manifest["fine_tuned"]
        show(f"CLINC150, full FAQ, default thresholds (val + oos_val){_title(kb)}", figures)
        baseline, _ = rerun(kb, test, use_classifier=False, use_lexical=False, use_answers=False)
        show("CLINC150, full FAQ, baseline nearest question, default thresholds", baseline)


def calibrated_thresholds(data, test, encode, args) -> None:
    faq_pairs, held = split_per_label(data["train"], 10)
    calibration = held + data["oos_train"]
    with tempfile.TemporaryDirectory() as tmp:
        faq = write_faq(faq_pairs, Path(tmp) / "faq.yml")
        _, outcomes, kb, _ = evaluate(
            faq, calibration, encode, keep_dir=Path(tmp), progress=not args.no_progress, options=fine_tune_options(args)
        )
        chosen = calibrate(outcomes, precision=args.precision, keep=args.keep)
        show(
            f"CLINC150, calibrate --precision {args.precision} --keep {args.keep} on 1,500 held-out + 100 oos_train",
            dict(chosen, calibration_set=metrics(outcomes, chosen["answer_threshold"], chosen["clarify_threshold"])),
        )
        _, test_outcomes = rerun(kb, test)
        figures = metrics(test_outcomes, chosen["answer_threshold"], chosen["clarify_threshold"])
        show(f"CLINC150, FAQ minus calibration questions, calibrated thresholds (val + oos_val){_title(kb)}", figures)


def _title(kb) -> str:
    tuned = kb.manifest.get("fine_tuned")
    if not tuned:
        return ", encoder not fine-tuned"
    return ", encoder fine-tuned at build" + (" (by default: a large English FAQ)" if tuned.get("by_default") else "")


if __name__ == "__main__":
    main()
