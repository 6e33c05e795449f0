"""The learned parts of an index as search uses them: the classifier and its sparse text features.

Training them is :mod:`knowledge_base.build.training`.
"""

from __future__ import annotations

import re
from pathlib import Path

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


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
                chars.extend("#" + padded[i : i + n] for i in range(len(padded) - n + 1))
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
        return torch.sparse_coo_tensor(
            [rows, columns], values, (len(texts), len(self.vocabulary)), dtype=torch.float32, check_invariants=True
        ).coalesce()

    def to_dict(self) -> dict:
        return {"vocabulary": self.vocabulary, "idf": self.idf}


class Classifier:
    """Linear softmax classifier from a query (vector + sparse text features) to an entry group."""

    def __init__(
        self,
        weights,
        bias,
        groups: list[str],
        sparse_weights=None,
        features: SparseFeatures | None = None,
        dense_scale: float = 1.0,
    ):
        self.weights = weights  # dims x groups
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
                    [self.sparse_weights, np.zeros((self.sparse_weights.shape[0], 1), np.float32)], axis=1
                )
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
        return cls(
            np.load(path / "weights.npy"),
            np.load(path / "bias.npy"),
            meta["groups"],
            sparse,
            features,
            meta.get("dense_scale", 1.0),
        )
