"""Optional build step: fine-tune the encoder on the FAQ's own question variants (contrastive, CPU).

Each step takes ``batch`` different entries, two texts of each (two questions, or a question and the
answer), and teaches the model that the two belong together and apart from the other entries'
texts (in-batch negatives, symmetric cross-entropy as in MultipleNegativesRankingLoss). Drawing one
pair per entry keeps an entry's own variants out of its negatives (SetFit-style pairs without the
false negatives of random batches).
"""
from __future__ import annotations

import random
import time
from pathlib import Path

from .types import Entry, FAQError

BATCH = 32
EPOCHS = 1.0
LEARNING_RATE = 2e-5
SCALE = 20.0   # cosine -> logit, as sentence-transformers' MultipleNegativesRankingLoss
MIN_STEPS = 10


def texts_by_entry(entries: list[Entry]) -> dict[str, list[str]]:
    """Every entry's questions (all languages) and its answer: the variants that should meet."""
    groups: dict[str, list[str]] = {}
    for entry in entries:
        groups.setdefault(entry.id, []).extend(entry.questions + [entry.answer])
    return {g: list(dict.fromkeys(t)) for g, t in groups.items() if len(set(t)) >= 2}


def fine_tune(model_dir, entries: list[Entry], out_dir, epochs: float = EPOCHS, batch: int = BATCH,
              learning_rate: float = LEARNING_RATE, progress: bool = False, seed: int = 0) -> dict:
    """Fine-tune a copy of the model in ``model_dir`` and save it to ``out_dir``; returns what was done."""
    import torch
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    from .encoder import batch_threads

    groups = texts_by_entry(entries)
    if len(groups) < 2:
        raise FAQError("fine-tuning needs at least two entries with two texts (questions or answer) each")
    names = sorted(groups)
    batch = max(2, min(batch, len(names)))
    questions = sum(len(t) for t in groups.values())
    steps = max(MIN_STEPS, int(epochs * questions / batch))
    torch.manual_seed(seed)
    rng = random.Random(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(batch_threads())
    model = SentenceTransformer(str(model_dir), device="cpu")
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps))

    def embed(texts):
        features = model.tokenize(texts) if not hasattr(model, "preprocess") else model.preprocess(texts)
        vectors = model(features)["sentence_embedding"]
        return torch.nn.functional.normalize(vectors, dim=-1)

    started = time.time()
    model.train()
    losses = []
    try:
        for _ in tqdm(range(steps), desc="fine-tuning", unit="step", disable=not progress):
            chosen = rng.sample(names, batch)
            anchors, positives = zip(*[rng.sample(groups[g], 2) for g in chosen])
            similarity = embed(list(anchors)) @ embed(list(positives)).T * SCALE
            target = torch.arange(len(chosen))
            loss = (torch.nn.functional.cross_entropy(similarity, target)
                    + torch.nn.functional.cross_entropy(similarity.T, target)) / 2
            loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            losses.append(float(loss.detach()))
    finally:
        torch.set_num_threads(threads)
    model.eval()
    Path(out_dir).parent.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    tail = losses[-max(1, len(losses) // 10):]
    return {"epochs": epochs, "steps": steps, "batch": batch, "learning_rate": learning_rate,
            "seconds": round(time.time() - started, 1), "first_loss": round(losses[0], 4),
            "last_loss": round(sum(tail) / len(tail), 4)}
