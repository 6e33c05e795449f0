"""Optional build step: fine-tune the encoder on the FAQ's own question variants (CPU, minutes).

Each step takes ``batch`` different entries, two texts of each (two questions, or a question and the
answer), and optimises two losses on the same forward pass:
- contrastive: the two texts belong together and apart from the other entries' texts (in-batch
  negatives, symmetric cross-entropy as in MultipleNegativesRankingLoss); drawing one pair per entry
  keeps an entry's own variants out of its negatives;
- classification: every text's cosine to one prototype per entry (initialised at the entry's mean
  vector, trained with it) as the logits of a softmax over the entries.
The prototypes are thrown away afterwards. Measured on the Banking77 dev split with 10 questions per
entry (figures in bench/README.md); neither loss was measured alone.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from ..types import Entry, FAQError

BATCH = 32
LEARNING_RATE = 5e-5
PROTOTYPE_LEARNING_RATE = 1e-2
SCALE = 20.0  # cosine -> logit, as sentence-transformers' MultipleNegativesRankingLoss
MIN_STEPS = 10
# Default length: small FAQs need several passes, large ones one (dev: Banking77 10 per entry best at
# about 8 passes at 5e-5; 16 passes at 1e-4 overfit); capped so a build stays in minutes.
TARGET_TEXTS = 6000
MAX_EPOCHS = 8.0


# Default builds tune the packaged English encoder by themselves for large FAQs, where it pays most and a build
# already takes a minute (measured, bench/README.md): CLINC150 (15,000 questions, 150 entries) validation in scope
# 95.4 -> 96.9 % (out-of-scope recall 78 -> 73 %), Banking77 (8,000) 91.3 -> 92.1 %, builds of about 7 min on 2
# cores instead of about 1. A small FAQ would spend
# TARGET_TEXTS' several minutes on a few hundred questions and has too few variants per entry to learn from safely
# (a tuned encoder draws uncovered questions towards the entries; the scope shift was measured on CLINC150 only).
AUTO_MIN_QUESTIONS = 2_000
AUTO_MIN_QUESTIONS_PER_ENTRY = 10


def wanted_by_default(entries: list[Entry], encode) -> bool:
    """Whether a build with the default settings tunes ``encode`` on ``entries``: the packaged MiniLM (what an
    English FAQ is indexed with by default; another model is tuned when asked, `build --fine-tune`) and a large
    FAQ with many questions per entry."""
    from ..encoder import packaged_model_dir

    model_dir = getattr(encode, "model_dir", None)
    if not model_dir or Path(model_dir).resolve() != packaged_model_dir().resolve():
        return False
    questions = sum(len(e.questions) for e in entries)
    groups = len({e.id for e in entries})
    return questions >= AUTO_MIN_QUESTIONS and questions >= AUTO_MIN_QUESTIONS_PER_ENTRY * max(1, groups)


def default_epochs(texts: int) -> float:
    return max(1.0, min(MAX_EPOCHS, TARGET_TEXTS / max(1, texts)))


def texts_by_entry(entries: list[Entry]) -> dict[str, list[str]]:
    """Every entry's questions (all languages) and its answer: the variants that should meet."""
    groups: dict[str, list[str]] = {}
    for entry in entries:
        groups.setdefault(entry.id, []).extend(entry.questions + [entry.answer])
    return {g: list(dict.fromkeys(t)) for g, t in groups.items() if len(set(t)) >= 2}


def fine_tune(
    model_dir,
    entries: list[Entry],
    out_dir,
    epochs: float | None = None,
    batch: int = BATCH,
    learning_rate: float = LEARNING_RATE,
    progress: bool = False,
    seed: int = 0,
) -> dict:
    """Fine-tune a copy of the model in ``model_dir`` and save it to ``out_dir``; returns what was done."""
    import torch
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    from ..encoder import batch_threads

    groups = texts_by_entry(entries)
    if len(groups) < 2:
        raise FAQError("fine-tuning needs at least two entries with two texts (questions or answer) each")
    names = sorted(groups)
    batch = max(2, min(batch, len(names)))
    texts = sum(len(t) for t in groups.values())
    epochs = epochs or default_epochs(texts)
    steps = max(MIN_STEPS, int(epochs * texts / (2 * batch)))  # a step sees 2 * batch texts
    torch.manual_seed(seed)
    rng = random.Random(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(batch_threads())
    model = SentenceTransformer(str(model_dir), device="cpu")
    prototypes = torch.nn.Parameter(_entry_means(model, groups, names, progress))
    column = {g: i for i, g in enumerate(names)}
    optimiser, schedule = _optimiser(model, prototypes, learning_rate, steps)
    started = time.time()
    model.train()
    losses = []
    try:
        for _ in tqdm(range(steps), desc="fine-tuning", unit="step", disable=not progress):
            losses.append(_step(model, prototypes, groups, names, column, batch, rng, optimiser, schedule))
    finally:
        torch.set_num_threads(threads)
    model.eval()
    Path(out_dir).parent.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    tail = losses[-max(1, len(losses) // 10) :]
    return {
        "epochs": epochs,
        "steps": steps,
        "batch": batch,
        "learning_rate": learning_rate,
        "seconds": round(time.time() - started, 1),
        "first_loss": round(losses[0], 4),
        "last_loss": round(sum(tail) / len(tail), 4),
    }


def _step(model, prototypes, groups, names, column, batch, rng, optimiser, schedule) -> float:
    """One training step on ``batch`` random entries, two random texts each; returns its loss."""
    chosen = rng.sample(names, batch)
    pairs = [rng.sample(groups[g], 2) for g in chosen]
    loss = _loss(model, prototypes, pairs, [column[g] for g in chosen])
    loss.backward()
    optimiser.step()
    schedule.step()
    optimiser.zero_grad()
    return float(loss.detach())


def _entry_means(model, groups: dict[str, list[str]], names: list[str], progress: bool):
    """One unit vector per entry, the mean of its texts: where the entry prototypes start."""
    import torch
    from tqdm import tqdm

    with torch.no_grad():
        model.eval()
        return torch.stack(
            [
                torch.nn.functional.normalize(
                    model.encode(groups[g], convert_to_tensor=True, normalize_embeddings=True).mean(0), dim=-1
                )
                for g in tqdm(names, desc="fine-tuning: entry prototypes", unit="entry", disable=not progress)
            ]
        )


def _optimiser(model, prototypes, learning_rate: float, steps: int):
    """AdamW over the model and the prototypes (faster), linear warm-up over a tenth of the steps, then decay."""
    import torch

    optimiser = torch.optim.AdamW(
        [
            {"params": model.parameters(), "lr": learning_rate, "weight_decay": 0.01},
            {"params": [prototypes], "lr": PROTOTYPE_LEARNING_RATE, "weight_decay": 0.0},
        ]
    )
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps)
    )
    return optimiser, schedule


def _loss(model, prototypes, pairs: list[list[str]], columns: list[int]):
    """Contrastive loss over the pairs (in-batch negatives, symmetric) plus each text's softmax over the prototypes."""
    import torch
    from torch.nn.functional import cross_entropy, normalize

    anchors, positives = zip(*pairs)
    texts = list(anchors) + list(positives)
    features = model.tokenize(texts) if not hasattr(model, "preprocess") else model.preprocess(texts)
    vectors = normalize(model(features)["sentence_embedding"], dim=-1)
    first, second = vectors[: len(pairs)], vectors[len(pairs) :]
    similarity = first @ second.T * SCALE
    target = torch.arange(len(pairs))
    contrastive = (cross_entropy(similarity, target) + cross_entropy(similarity.T, target)) / 2
    logits = vectors @ normalize(prototypes, dim=-1).T * SCALE
    return contrastive + cross_entropy(logits, torch.tensor(columns * 2))
