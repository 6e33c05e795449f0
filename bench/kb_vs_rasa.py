"""Side by side on the Banking77 10-questions-per-entry FAQ: this knowledge base vs Rasa's own way.

Rasa 3.6 (``.venv-rasa``), default pipeline (what `rasa init` uses: DIET, 100 epochs) with one
intent per FAQ entry, trained in a temporary directory; accuracy on the same held-out test
questions (`rasa test nlu`). Then one more entry is added: Rasa has to retrain (a new intent can
not be fine-tuned in, so adding = a full training, timed once), the knowledge base takes it live
(`kb.upsert` of the 77th entry into a 76-entry index, timed).

Both sides encode/train for real (the knowledge base with the product's encoder, no vector cache).
Rasa runs in a subprocess under `nice` with a time limit; `--epochs` lowers DIET's epochs on a busy
machine, and the output then says so (`epochs` next to Rasa's figures).
Usage: .venv/bin/python bench/kb_vs_rasa.py [--rasa .venv-rasa/bin/rasa] [--epochs 100] [--timeout 1500]
"""

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import yaml
from common import REPO, banking77, encoder, evaluate, sample_per_label, show, split_per_label, write_faq

from knowledge_base import Entry

RASA_DEFAULT_CONFIG = """\
recipe: default.v1
language: en
assistant_id: kb-benchmark
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: {epochs}
    constrain_similarities: true
  - name: EntitySynonymMapper
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
policies: []
"""


def nlu_yaml(pairs) -> str:
    intents = {}
    for text, label in pairs:
        intents.setdefault(label, []).append(text)
    return yaml.safe_dump(
        {
            "version": "3.1",
            "nlu": [
                {"intent": label, "examples": "".join(f"- {t}\n" for t in texts)} for label, texts in intents.items()
            ],
        },
        allow_unicode=True,
        width=10000,
        sort_keys=False,
    )


def rasa_env() -> dict:
    return dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="3",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        TF_NUM_INTRAOP_THREADS="1",
        TF_NUM_INTEROP_THREADS="1",
    )


def rasa_train(rasa: str, folder: Path, pairs, name: str, epochs: int, timeout: float) -> float:
    (folder / "config.yml").write_text(RASA_DEFAULT_CONFIG.replace("{epochs}", str(epochs)), encoding="utf-8")
    (folder / "nlu.yml").write_text(nlu_yaml(pairs), encoding="utf-8")
    started = time.perf_counter()
    subprocess.run(
        [
            "nice",
            "-n",
            "19",
            rasa,
            "train",
            "nlu",
            "--nlu",
            "nlu.yml",
            "--config",
            "config.yml",
            "--out",
            "models",
            "--fixed-model-name",
            name,
        ],
        cwd=folder,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=rasa_env(),
        timeout=timeout,
    )
    return time.perf_counter() - started


def rasa_accuracy(rasa: str, folder: Path, test, name: str, timeout: float) -> float:
    (folder / "test.yml").write_text(nlu_yaml(test), encoding="utf-8")
    subprocess.run(
        [
            "nice",
            "-n",
            "19",
            rasa,
            "test",
            "nlu",
            "--nlu",
            "test.yml",
            "--model",
            f"models/{name}.tar.gz",
            "--out",
            "results",
        ],
        cwd=folder,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=rasa_env(),
        timeout=timeout,
    )
    report = json.loads((folder / "results" / "intent_report.json").read_text())
    return report["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa", default=str(REPO / ".venv-rasa" / "bin" / "rasa"))
    parser.add_argument("--epochs", type=int, default=100, help="DIET epochs (default config: 100)")
    parser.add_argument("--timeout", type=float, default=1500, help="seconds each Rasa step may take")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    faq_pairs, held = split_per_label(banking77(), 0.2)
    _dev, test = split_per_label(held, 0.5)
    pairs = sample_per_label(faq_pairs, 10)
    new_label = sorted({label for _, label in pairs})[0]
    base = [p for p in pairs if p[1] != new_label]  # 76 entries, then the 77th is added
    new_questions = [t for t, label in pairs if label == new_label]
    encode = encoder()  # for real: a build encodes its questions
    encode(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        figures, _, kb, build_s = evaluate(
            write_faq(pairs, folder / "faq.yml"), test, encode, keep_dir=folder, progress=not args.no_progress
        )
        # time to add one entry: start from the 76-entry index, then upsert the 77th live
        from knowledge_base import Settings, build_index, load_entries, load_knowledge_base

        small = write_faq(base, folder / "faq76.yml")
        settings = Settings(faq_path=small, index_dir=folder / "index76", check_sources=False)
        build_index(load_entries(small), settings.index_dir, encode=encode, progress=False)
        kb76 = load_knowledge_base(settings, encode=encode)
        kb76.search("warm up")
        started = time.perf_counter()
        kb76.upsert(Entry(new_label, "en", new_questions, new_label.replace("_", " ").capitalize()))
        add_s = time.perf_counter() - started
        ours = {
            "top1_accuracy": figures["top1_accuracy"],
            "encoder": getattr(encode, "runtime", "custom"),
            "build_s": round(build_s, 1),
            "add_one_entry_s": round(add_s, 2),
            "p95_ms": figures["p95_ms"],
        }
        show("knowledge base (Banking77, 10 per entry, held-out test)", ours)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            train_s = rasa_train(args.rasa, folder, pairs, "full", args.epochs, args.timeout)
            accuracy = rasa_accuracy(args.rasa, folder, test, "full", args.timeout)
        except subprocess.TimeoutExpired as exc:
            show(
                "Rasa 3.6 DIET: did not finish",
                {
                    "step": " ".join(map(str, exc.cmd[3:5])),
                    "timeout_s": args.timeout,
                    "epochs": args.epochs,
                    "load": os.getloadavg()[0],
                },
            )
            return
        # Adding an entry means a new intent, which Rasa can not fine-tune in (`--finetune` needs the same
        # labels): it is a full training on the 77 intents, i.e. train_s again.
        add_s = train_s
        note = "default pipeline" if args.epochs == 100 else f"default pipeline but {args.epochs} DIET epochs (not 100)"
        show(
            f"Rasa 3.6 DIET, {note}, one intent per entry",
            {
                "top1_accuracy": round(accuracy, 4),
                "train_s": round(train_s, 1),
                "add_one_entry_s": round(add_s, 1),
                "epochs": args.epochs,
                "load": os.getloadavg()[0],
            },
        )


if __name__ == "__main__":
    main()
