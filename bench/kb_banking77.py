"""Banking77 as an FAQ (77 entries): top-1 on held-out questions, all questions and 10 per entry.

The training file is split per category: 80 % become the FAQ, 20 % are held out; half of those
("dev") was used to choose the scoring constants, the other half ("test") gives the figures here.
Plain nearest-question search over the same index is printed as the baseline.
The FAQs are built as `build` builds by default: all questions (8,000) with the packaged encoder fine-tuned on
them, 10 per entry (770) without (queries of a tuned index go through the tuned encoder for real).
--fine-tune tunes whatever the size, --no-fine-tune never.
With --model (default: $KB_MODEL) another sentence-transformers model directory encodes, e.g. the larger
all-mpnet-base-v2 that `make model-mpnet` installs.
Usage: .venv/bin/python bench/kb_banking77.py [--shots 10] [--fine-tune [--epochs 1] | --no-fine-tune] [--model DIR] [--no-progress]
"""

import argparse
import os
import tempfile
from pathlib import Path

from common import (
    BASELINE,
    CachedEncoder,
    banking77,
    evaluate,
    add_fine_tune_arguments,
    fine_tune_options,
    rerun,
    sample_per_label,
    show,
    split_per_label,
    write_faq,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, nargs="*", default=[0, 10], help="questions per entry (0 = all)")
    add_fine_tune_arguments(parser)
    parser.add_argument(
        "--model",
        default=os.environ.get("KB_MODEL") or None,
        metavar="DIR",
        help="sentence-transformers model directory (default: $KB_MODEL, else the packaged MiniLM)",
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    faq_pairs, held = split_per_label(banking77(), 0.2)
    _dev, test = split_per_label(held, 0.5)
    encode = CachedEncoder(model=args.model)
    encode.warm([t for t, _ in faq_pairs + test])
    for shots in args.shots:
        pairs = sample_per_label(faq_pairs, shots) if shots else faq_pairs
        name = f"{shots} per entry" if shots else "all questions"
        with tempfile.TemporaryDirectory() as tmp:
            faq = write_faq(pairs, Path(tmp) / "faq.yml")
            options = fine_tune_options(args)
            figures, _, kb, build_s = evaluate(
                faq, test, encode, keep_dir=Path(tmp), progress=not args.no_progress, options=options
            )
            figures.update(build_s=round(build_s, 1), faq_questions=len(pairs), entries=77, model=kb.manifest["model"])
            tuned = kb.manifest.get("fine_tuned")
            if tuned:
                figures["fine_tuned"] = tuned
            title = "knowledge base" + (", encoder fine-tuned at build" if tuned else ", encoder not fine-tuned")
            show(f"Banking77, {name}, held-out test ({len(test)} queries): {title}", figures)
            baseline, _ = rerun(kb, test, **BASELINE)
            show(f"Banking77, {name}: baseline (nearest question only)", baseline)
    encode.save()


if __name__ == "__main__":
    main()
