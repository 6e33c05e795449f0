"""FAQ entries with a single question and an answer (how most FAQ pages look): top-1 on other questions.

Each Banking77 category / CLINC150 intent becomes one entry with one randomly chosen question; the
answer is the readable category name (the sets have no answers; it stands in for an answer's words).
Queries: the Banking77 held-out test split, the CLINC150 validation questions (in scope only).
Printed both ways: the full knowledge base, without the answer text, and plain nearest question.
Usage: .venv/bin/python bench/kb_single_question.py [--no-progress]
"""
import argparse
import tempfile
from pathlib import Path

from common import BASELINE, CachedEncoder, banking77, clinc150, evaluate, rerun, sample_per_label, show, split_per_label, write_faq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    faq_pairs, held = split_per_label(banking77(), 0.2)
    _dev, test = split_per_label(held, 0.5)
    clinc = clinc150()
    sets = [("Banking77", sample_per_label(faq_pairs, 1), test),
            ("CLINC150", sample_per_label(clinc["train"], 1), clinc["val"])]
    encode = CachedEncoder()
    for name, pairs, queries in sets:
        encode.warm([t for t, _ in pairs + queries])
        with tempfile.TemporaryDirectory() as tmp:
            faq = write_faq(pairs, Path(tmp) / "faq.yml")
            figures, _, kb, _ = evaluate(faq, queries, encode, keep_dir=Path(tmp), progress=not args.no_progress)
            show(f"{name}, 1 question per entry ({len(pairs)} entries, {len(queries)} queries): knowledge base", figures)
            no_answers, _ = rerun(kb, queries, use_answers=False)
            show(f"{name}, 1 question per entry: without answer text", no_answers)
            baseline, _ = rerun(kb, queries, **BASELINE)
            show(f"{name}, 1 question per entry: baseline (nearest question only)", baseline)
    encode.save()


if __name__ == "__main__":
    main()
