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
CLASSIFIER_L2 = 0.05   # L2 weight times the number of training questions
CLASSIFIER_MAX_ITER = 300
SPARSE_MAX_WEIGHTS = 8_000_000  # features x groups; beyond it (memory, L-BFGS history) the classifier is dense only
DENSE_SCALE = 2.0      # vectors are unit length; scaled so they weigh against the sparse features


def groups_of(entries: list[Entry]) -> list[str]:
    """Entry ids in first-seen order: translations of one entry form one group (one class)."""
    return list(dict.fromkeys(e.id for e in entries))


class _LanguagePayload:
    def __init__(self, texts_by_language: dict[str, list[str]]):
        self.texts_by_language = texts_by_language

    def save(self, path: Path) -> None:
        from .language import LanguageDetector

        LanguageDetector.save(path, self.texts_by_language)


class SparseFeatures:
    """TF-IDF over word 1-2-grams and character 2-4-grams (within words), each block L2-normalised.

    Customers' exact words (product names, "top up" vs "top-up failed") carry what a small sentence
    encoder blurs; the classifier sees both.
    """

    def __init__(self, vocabulary: dict[str, int], idf: list[float]):
        self.vocabulary = vocabulary
        self.idf = idf

    @staticmethod
    def _terms(text: str) -> dict[str, list[str]]:
        words = _WORD.findall(text.lower())
        grams = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
        chars = []
        for word in words:
            padded = f" {word} "
            for n in (2, 3, 4):
                chars.extend("#" + padded[i:i + n] for i in range(len(padded) - n + 1))
        return {"w": grams, "c": chars}

    @classmethod
    def fit(cls, texts: list[str], min_char_df: int = 2) -> "SparseFeatures":
        import math

        df: dict[str, int] = {}
        for text in texts:
            terms = cls._terms(text)
            for term in set(terms["w"]) | set(terms["c"]):
                df[term] = df.get(term, 0) + 1
        kept = sorted(t for t, f in df.items() if not t.startswith("#") or f >= min_char_df)
        n = len(texts)
        return cls({t: i for i, t in enumerate(kept)}, [math.log((1 + n) / (1 + df[t])) + 1.0 for t in kept])

    def transform_one(self, text: str) -> tuple[list[int], list[float]]:
        import math

        columns, values = [], []
        for block in self._terms(text).values():
            counts: dict[int, int] = {}
            for term in block:
                j = self.vocabulary.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            weights = {j: (1.0 + math.log(c)) * self.idf[j] for j, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for j, w in weights.items():
                columns.append(j)
                values.append(w / norm)
        return columns, values

    def transform(self, texts: list[str]):
        """A torch sparse (COO) matrix, one row per text."""
        import torch

        rows, columns, values = [], [], []
        for i, text in enumerate(texts):
            c, v = self.transform_one(text)
            rows.extend([i] * len(c))
            columns.extend(c)
            values.extend(v)
        return torch.sparse_coo_tensor([rows, columns], values, (len(texts), len(self.vocabulary)),
                                       dtype=torch.float32, check_invariants=True).coalesce()

    def to_dict(self) -> dict:
        return {"vocabulary": self.vocabulary, "idf": self.idf}


class Classifier:
    """Linear softmax classifier from a query (vector + sparse text features) to an entry group."""

    def __init__(self, weights, bias, groups: list[str], sparse_weights=None, features: SparseFeatures | None = None,
                 dense_scale: float = 1.0):
        self.weights = weights                # dims x groups
        self.bias = bias
        self.groups = list(groups)
        self.sparse_weights = sparse_weights  # features x groups, or None
        self.features = features
        self.dense_scale = dense_scale

    def log_probs(self, vectors, texts: list[str] | None = None):
        import numpy as np

        logits = self.dense_scale * (vectors @ self.weights) + self.bias
        if self.sparse_weights is not None and texts is not None:
            for i, text in enumerate(texts):
                columns, values = self.features.transform_one(text)
                if columns:
                    logits[i] += np.asarray(values, dtype=np.float32) @ self.sparse_weights[columns]
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
            if self.sparse_weights is not None:
                self.sparse_weights[:, i] = 0.0
        else:
            self.weights = np.concatenate([self.weights, column[:, None]], axis=1)
            self.bias = np.append(self.bias, np.float32(bias)).astype(np.float32)
            if self.sparse_weights is not None:
                self.sparse_weights = np.concatenate(
                    [self.sparse_weights, np.zeros((self.sparse_weights.shape[0], 1), np.float32)], axis=1)
            self.groups.append(group)

    def drop(self, group: str) -> None:
        import numpy as np

        if group in self.groups:
            i = self.groups.index(group)
            self.weights = np.delete(self.weights, i, axis=1)
            self.bias = np.delete(self.bias, i)
            if self.sparse_weights is not None:
                self.sparse_weights = np.delete(self.sparse_weights, i, axis=1)
            self.groups.pop(i)

    def save(self, path: Path) -> None:
        import json

        import numpy as np

        path.mkdir()
        np.save(path / "weights.npy", self.weights)
        np.save(path / "bias.npy", self.bias)
        meta = {"groups": self.groups, "dense_scale": self.dense_scale}
        if self.sparse_weights is not None:
            np.save(path / "sparse_weights.npy", self.sparse_weights)
            meta["features"] = self.features.to_dict()
        (path / "classifier.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "Classifier":
        import json

        import numpy as np

        meta = json.loads((path / "classifier.json").read_text(encoding="utf-8"))
        sparse, features = None, None
        if "features" in meta:
            sparse = np.load(path / "sparse_weights.npy")
            features = SparseFeatures(meta["features"]["vocabulary"], meta["features"]["idf"])
        return cls(np.load(path / "weights.npy"), np.load(path / "bias.npy"), meta["groups"], sparse, features,
                   meta.get("dense_scale", 1.0))


def train_classifier(vectors, labels, n_groups: int, texts: list[str] | None = None,
                     l2_per_example: float = CLASSIFIER_L2, max_iter: int = CLASSIFIER_MAX_ITER,
                     dense_scale: float = DENSE_SCALE) -> Classifier:
    """Multinomial logistic regression (L-BFGS, full batch) over scaled vectors and sparse text features."""
    import numpy as np
    import torch

    torch.manual_seed(0)
    n = len(labels)
    l2 = l2_per_example / max(1, n)  # like C=10 in scikit-learn's scaling, whatever the FAQ's size
    x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32)) * dense_scale
    y = torch.as_tensor(labels, dtype=torch.long)
    weights = torch.zeros(x.shape[1], n_groups, requires_grad=True)
    bias = torch.zeros(n_groups, requires_grad=True)
    params = [weights, bias]
    features = xs = sparse = None
    if texts is not None:
        features = SparseFeatures.fit(texts)
        if len(features.vocabulary) * n_groups > SPARSE_MAX_WEIGHTS:
            features = None
    if features is not None:
        xs = features.transform(texts)
        sparse = torch.zeros(len(features.vocabulary), n_groups, requires_grad=True)
        params.append(sparse)
    optimiser = torch.optim.LBFGS(params, lr=1.0, max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        logits = x @ weights + bias
        penalty = (weights ** 2).sum()
        if xs is not None:
            logits = logits + torch.sparse.mm(xs, sparse)
            penalty = penalty + (sparse ** 2).sum()
        loss = torch.nn.functional.cross_entropy(logits, y) + l2 * penalty
        loss.backward()
        return loss

    optimiser.step(closure)
    return Classifier(weights.detach().numpy().astype(np.float32), bias.detach().numpy().astype(np.float32), [],
                      sparse.detach().numpy().astype(np.float32) if sparse is not None else None, features,
                      dense_scale)


def texts_by_language(entries: list[Entry]) -> dict[str, list[str]]:
    """The FAQ's questions and answers per language (the language detector learns its neutral words from them)."""
    texts: dict[str, list[str]] = {}
    for entry in entries:
        texts.setdefault(entry.language, []).extend(entry.questions + [entry.answer])
    return texts


def train(entries: list[Entry], rows, vectors, encode=None, progress: bool = False, options: dict | None = None) -> dict:
    """Build-time components, keyed by the file or folder name they are saved under in the index directory."""
    from .lexical import BM25

    options = options or {}
    parts: dict = {"language.json": _LanguagePayload(texts_by_language(entries))}
    if options.get("lexical", True):
        parts["lexical.json"] = BM25.build([e.questions + [e.answer] for e in entries], [e.language for e in entries])
    groups = groups_of(entries)
    question_rows = [i for i, r in enumerate(rows) if r.kind == "q"]
    wanted = options.get("classifier", "auto")
    fits = len(question_rows) <= CLASSIFIER_MAX_QUESTIONS and len(groups) <= CLASSIFIER_MAX_GROUPS
    if len(groups) >= 2 and (wanted is True or (wanted == "auto" and fits)):
        position = {g: i for i, g in enumerate(groups)}
        labels = [position[entries[rows[i].entry].id] for i in question_rows]
        texts = [rows[i].text for i in question_rows] if options.get("sparse_features", True) else None
        classifier = train_classifier(vectors[question_rows], labels, len(groups), texts=texts,
                                      l2_per_example=options.get("l2", CLASSIFIER_L2))
        classifier.groups = groups
        parts["classifier"] = classifier
    ann = options.get("ann")
    if ann:
        parts["ann"] = ann
    return parts
