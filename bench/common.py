"""Shared helpers for the KB benchmarks: development data as FAQ files, splits, and running eval."""

from __future__ import annotations

import csv
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("KB_BENCH_DATA", REPO.parent / "shared" / "data"))
SEED = 13


def humanise(label: str) -> str:
    return label.replace("_", " ").strip().capitalize()


def banking77() -> list[tuple[str, str]]:
    with (DATA / "banking77" / "train.csv").open(encoding="utf-8") as handle:
        return [(row["text"].strip(), row["category"]) for row in csv.DictReader(handle)]


def clinc150() -> dict[str, list[tuple[str, str]]]:
    raw = json.loads((DATA / "clinc150" / "data_full_dev.json").read_text(encoding="utf-8"))
    return {part: [(t.strip(), label) for t, label in pairs] for part, pairs in raw.items()}


def by_label(pairs):
    groups = defaultdict(list)
    for text, label in pairs:
        groups[label].append(text)
    return groups


def split_per_label(pairs, held_out: float | int, seed: int = SEED):
    """Stratified split: per label, ``held_out`` (a share or a count) of the questions go to the second part."""
    rng = random.Random(seed)
    keep, out = [], []
    for label, texts in sorted(by_label(pairs).items()):
        texts = texts[:]
        rng.shuffle(texts)
        n = round(len(texts) * held_out) if isinstance(held_out, float) else held_out
        out += [(t, label) for t in texts[:n]]
        keep += [(t, label) for t in texts[n:]]
    return keep, out


def sample_per_label(pairs, n: int, seed: int = SEED):
    rng = random.Random(seed)
    chosen = []
    for label, texts in sorted(by_label(pairs).items()):
        texts = texts[:]
        rng.shuffle(texts)
        chosen += [(t, label) for t in texts[:n]]
    return chosen


def write_faq(pairs, path: Path, answer=humanise, language: str = "en") -> Path:
    """One FAQ entry per label; its questions are the label's texts, its answer a readable label name.

    The development sets have no answers; the readable label stands in for an answer's words.
    """
    import yaml

    entries = [
        {"id": label, "questions": list(dict.fromkeys(texts)), "answer": answer(label)}
        for label, texts in sorted(by_label(pairs).items())
    ]
    path.write_text(
        yaml.safe_dump({"language": language, "entries": entries}, allow_unicode=True, width=1000), encoding="utf-8"
    )
    return path


def encoder(model: str | None = None):
    """The encoder `build` uses (of ``model``, a model directory, or the packaged one); KB_ENCODER (auto,
    onnx, onnx-int8, torch) picks another runtime."""
    from knowledge_base.build.indexer import encoder_for
    from knowledge_base.settings import Settings

    return encoder_for(Settings(encoder=os.environ.get("KB_ENCODER") or "auto", model=model))


def fine_tune_options(args) -> dict | None:
    """`build --fine-tune [--epochs N]` / `--no-fine-tune` as build options, from a bench's arguments of those
    names; None builds as `build` does by default (which tunes the packaged encoder on a large English FAQ)."""
    if getattr(args, "no_fine_tune", False):
        return {"fine_tune": False}
    return {"fine_tune": {"epochs": args.epochs} if args.epochs else True} if args.fine_tune else None


def add_fine_tune_arguments(parser) -> None:
    """--fine-tune / --no-fine-tune / --epochs, as `build` has them."""
    tuning = parser.add_mutually_exclusive_group()
    tuning.add_argument("--fine-tune", action="store_true", help="build with the encoder fine-tuned on the FAQ")
    tuning.add_argument(
        "--no-fine-tune",
        action="store_true",
        help="never fine-tune (by default, as `build`, a large English FAQ tunes the packaged encoder)",
    )
    parser.add_argument("--epochs", type=float, default=None, help="fine-tuning passes (default: as build)")


BASELINE = {"use_classifier": False, "use_lexical": False, "use_answers": False}  # plain nearest question (ablation.py)


def evaluate(
    faq: Path,
    queries: list[tuple[str, str]],
    encode,
    settings_changes: dict | None = None,
    options: dict | None = None,
    keep_dir: Path | None = None,
    progress: bool = True,
):
    """Build an index from ``faq`` (like ``eval``), run ``queries``; returns (figures, outcomes, kb, build s)."""
    from knowledge_base import Settings, build_index, load_entries, load_knowledge_base
    from knowledge_base.build.evaluate import Query, metrics, run_queries

    entries = load_entries(faq)
    folder = keep_dir or Path(tempfile.mkdtemp(prefix="kb-bench-"))
    # The configured model is the encoder's: a fine-tuned index is checked against the base model it was tuned from.
    model = str(encode.model_dir) if getattr(encode, "model_dir", None) else None
    settings = Settings.from_env().with_(
        faq_path=faq, index_dir=folder / "index", check_sources=False, model=model, **(settings_changes or {})
    )
    started = time.perf_counter()
    manifest = build_index(entries, settings.index_dir, encode=encode, progress=progress, options=options)
    build_seconds = time.perf_counter() - started
    # A fine-tuned index encodes queries with its own tuned encoder (for real, no cache).
    kb = load_knowledge_base(settings, encode=None if manifest.get("fine_tuned") else encode)
    outcomes = run_queries(kb, [Query(t, label) for t, label in queries], progress=progress)
    return metrics(outcomes), outcomes, kb, build_seconds


def rerun(kb, queries, **scorer):
    """Run the queries again on an index with another scorer configuration (e.g. BASELINE; see ablation.py)."""
    from ablation import AblationScorer
    from knowledge_base.build.evaluate import Query, metrics, run_queries

    saved = kb.scorer
    kb.scorer = AblationScorer(**scorer)
    try:
        outcomes = run_queries(kb, [Query(t, label) for t, label in queries])
    finally:
        kb.scorer = saved
    return metrics(outcomes), outcomes


def show(title: str, figures: dict) -> None:
    print(f"== {title}")
    print(json.dumps(figures))
    sys.stdout.flush()


class CachedEncoder:
    """The encode function of the packaged model (or of ``model``, a model directory) with a vector cache
    on disk, so repeated benchmark runs skip re-encoding the same development texts (the vectors are the
    model's own)."""

    def __init__(self, cache: Path | None = None, model: str | None = None):
        import numpy as np

        self.base = encoder(model)
        self.model_name = self.base.model_name
        self.model_dir = self.base.model_dir
        self.runtime = getattr(self.base, "runtime", "custom")
        if getattr(self.base, "cosine_scale", None):  # the default encoder's cosines, mapped (knowledge_base/e5.py)
            self.cosine_scale = self.base.cosine_scale
            self.in_scope_midpoint = getattr(self.base, "in_scope_midpoint", None)
        if getattr(self.base, "monolingual", None) is not None:  # the default indexes English FAQs with MiniLM alone
            self.monolingual = _CachedHalf(self, self.base.monolingual)
        # fp32 ONNX and torch give the same vectors (to 1e-6); a quantised encoder has its own cache.
        suffix = "-int8" if self.runtime.endswith("int8") else ""
        name = self.model_name
        if model:  # e.g. tuned copies, which share file names and sizes: named by the weights' own hash
            from knowledge_base.build.onnx_export import weights_digest

            name = f"{Path(model).name}-{weights_digest(Path(model))}"
        self.cache = cache or (REPO / "var" / "bench_cache" / f"{name}{suffix}.npz")
        self.vectors: dict[str, "np.ndarray"] = {}
        if self.cache.is_file():
            data = np.load(self.cache, allow_pickle=False)
            self.vectors = dict(zip(data["texts"].tolist(), data["vectors"]))
        self.dirty = False

    def __call__(self, texts, show_progress: bool = False):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            for text, vector in zip(missing, self.base(missing, show_progress=show_progress)):
                self.vectors[text] = vector
            self.dirty = True
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)

    def warm(self, texts) -> None:
        from tqdm import tqdm

        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        for start in tqdm(range(0, len(missing), 512), desc="encoding (cached for next runs)", disable=not missing):
            self(missing[start : start + 512])
        self.save()

    def save(self) -> None:
        import numpy as np

        if not self.dirty:
            return
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        texts = list(self.vectors)
        np.savez(
            self.cache.with_suffix(".tmp.npz"),
            texts=np.array(texts),
            vectors=np.stack([self.vectors[t] for t in texts]),
        )
        self.cache.with_suffix(".tmp.npz").replace(self.cache)
        self.dirty = False


class _CachedHalf:
    """The default ensemble's MiniLM half (what it indexes an English-only FAQ with), read from the ensemble's cache:
    the first half of an ensemble vector is MiniLM's vector times a constant (knowledge_base/e5.py)."""

    def __init__(self, ensemble: CachedEncoder, minilm):
        self.ensemble = ensemble
        self.model_name = minilm.model_name
        self.model_dir = getattr(minilm, "model_dir", None)  # what a default build tunes on a large English FAQ
        self.runtime = getattr(minilm, "runtime", "custom")

    def __call__(self, texts, show_progress: bool = False):
        import numpy as np

        vectors = self.ensemble(texts, show_progress=show_progress)
        half = vectors[:, : vectors.shape[1] // 2]
        return np.ascontiguousarray(half / np.linalg.norm(half, axis=1, keepdims=True), dtype=np.float32)
