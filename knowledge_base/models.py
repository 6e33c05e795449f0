"""What the index learns from the FAQ at build time besides the vectors: classifier, BM25, language words."""
from __future__ import annotations

import re
from pathlib import Path

from .types import Entry

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

# A softmax classifier over the embeddings pays off from a few questions per entry on (see bench/);
# above these sizes its training time grows past what a build should take, and kNN alone is used.
CLASSIFIER_MAX_QUESTIONS = 60_000
CLASSIFIER_MAX_GROUPS = 3_000
CLASSIFIER_L2 = 1e-5
CLASSIFIER_MAX_ITER = 300


def groups_of(entries: list[Entry]) -> list[str]:
    """Entry ids in first-seen order: translations of one entry form one group (one class)."""
    return list(dict.fromkeys(e.id for e in entries))


class _LanguagePayload:
    def __init__(self, extra: dict[str, set[str]]):
        self.extra = extra

    def save(self, path: Path) -> None:
        from .language import LanguageDetector

        LanguageDetector.save(path, self.extra)


class Classifier:
    """Linear softmax classifier from a query vector to an entry group (weights W: dims x groups, bias b)."""

    def __init__(self, weights, bias, groups: list[str]):
        self.weights = weights
        self.bias = bias
        self.groups = list(groups)

    def log_probs(self, vectors):
        import numpy as np

        logits = vectors @ self.weights + self.bias
        logits = logits - logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    def imprint(self, group: str, vectors) -> None:
        """Give a new or edited group weights from its question vectors (weight imprinting), no retraining."""
        import numpy as np

        centroid = vectors.mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        norms = np.linalg.norm(self.weights, axis=0)
        scale = float(np.median(norms)) if len(norms) else 1.0
        column = (centroid * scale).astype(np.float32)
        bias = float(np.median(self.bias)) if len(self.bias) else 0.0
        if group in self.groups:
            i = self.groups.index(group)
            self.weights[:, i] = column
            self.bias[i] = bias
        else:
            self.weights = np.concatenate([self.weights, column[:, None]], axis=1)
            self.bias = np.append(self.bias, np.float32(bias)).astype(np.float32)
            self.groups.append(group)

    def drop(self, group: str) -> None:
        import numpy as np

        if group in self.groups:
            i = self.groups.index(group)
            self.weights = np.delete(self.weights, i, axis=1)
            self.bias = np.delete(self.bias, i)
            self.groups.pop(i)

    def save(self, path: Path) -> None:
        import json

        import numpy as np

        path.mkdir()
        np.save(path / "weights.npy", self.weights)
        np.save(path / "bias.npy", self.bias)
        (path / "groups.json").write_text(json.dumps(self.groups, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "Classifier":
        import json

        import numpy as np

        return cls(np.load(path / "weights.npy"), np.load(path / "bias.npy"),
                   json.loads((path / "groups.json").read_text(encoding="utf-8")))


def train_classifier(vectors, labels, n_groups: int, l2: float = CLASSIFIER_L2,
                     max_iter: int = CLASSIFIER_MAX_ITER):
    """Multinomial logistic regression (L-BFGS, full batch) on normalised vectors; returns (W, b)."""
    import numpy as np
    import torch

    torch.manual_seed(0)
    x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    y = torch.as_tensor(labels, dtype=torch.long)
    weights = torch.zeros(x.shape[1], n_groups, requires_grad=True)
    bias = torch.zeros(n_groups, requires_grad=True)
    optimiser = torch.optim.LBFGS([weights, bias], lr=1.0, max_iter=max_iter, history_size=20,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ weights + bias, y) + l2 * (weights ** 2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return weights.detach().numpy().astype(np.float32), bias.detach().numpy().astype(np.float32)


def faq_vocabulary(entries: list[Entry]) -> dict[str, set[str]]:
    """Words that appear in the FAQ's entries of exactly one language."""
    words: dict[str, set[str]] = {}
    for entry in entries:
        bag = words.setdefault(entry.language, set())
        for text in entry.questions + [entry.answer]:
            bag.update(w for w in _WORD.findall(text.lower()) if len(w) > 2)
    only = {}
    for language, bag in words.items():
        others = set().union(*(b for lang, b in words.items() if lang != language))
        only[language] = bag - others
    return only


def train(entries: list[Entry], rows, vectors, encode=None, progress: bool = False, options: dict | None = None) -> dict:
    """Build-time components, keyed by the file or folder name they are saved under in the index directory."""
    from .lexical import BM25

    options = options or {}
    parts: dict = {"language.json": _LanguagePayload(faq_vocabulary(entries))}
    if options.get("lexical", True):
        parts["lexical.json"] = BM25.build([e.questions + [e.answer] for e in entries], [e.language for e in entries])
    groups = groups_of(entries)
    question_rows = [i for i, r in enumerate(rows) if r.kind == "q"]
    wanted = options.get("classifier", "auto")
    fits = len(question_rows) <= CLASSIFIER_MAX_QUESTIONS and len(groups) <= CLASSIFIER_MAX_GROUPS
    if len(groups) >= 2 and (wanted is True or (wanted == "auto" and fits)):
        position = {g: i for i, g in enumerate(groups)}
        labels = [position[entries[rows[i].entry].id] for i in question_rows]
        weights, bias = train_classifier(vectors[question_rows], labels, len(groups),
                                         l2=options.get("l2", CLASSIFIER_L2))
        parts["classifier"] = Classifier(weights, bias, groups)
    ann = options.get("ann")
    if ann:
        parts["ann"] = ann
    return parts
