"""What the index learns from the FAQ at build time besides the vectors: classifier, BM25, language words."""

from __future__ import annotations

from pathlib import Path

from ..models import Classifier, SparseFeatures
from ..types import Entry

# A softmax classifier over the embeddings pays off from a few questions per entry on (see bench/);
# above these sizes its training time grows past what a build should take, and kNN alone is used.
CLASSIFIER_MAX_QUESTIONS = 60_000
CLASSIFIER_MAX_GROUPS = 3_000
CLASSIFIER_L2 = 0.05  # L2 weight times the number of training questions
CLASSIFIER_MAX_ITER = 300
SPARSE_MAX_WEIGHTS = 8_000_000  # features x groups; beyond it (memory, L-BFGS history) the classifier is dense only
DENSE_SCALE = 2.0  # vectors are unit length; scaled so they weigh against the sparse features


def groups_of(entries: list[Entry]) -> list[str]:
    """Entry ids in first-seen order: translations of one entry form one group (one class)."""
    return list(dict.fromkeys(e.id for e in entries))


class _LanguagePayload:
    def __init__(self, texts_by_language: dict[str, list[str]]):
        self.texts_by_language = texts_by_language

    def save(self, path: Path) -> None:
        from ..language import LanguageDetector

        LanguageDetector.save(path, self.texts_by_language)


def train_classifier(
    vectors,
    labels,
    n_groups: int,
    texts: list[str] | None = None,
    l2_per_example: float = CLASSIFIER_L2,
    max_iter: int = CLASSIFIER_MAX_ITER,
    dense_scale: float = DENSE_SCALE,
) -> Classifier:
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
        penalty = (weights**2).sum()
        if xs is not None:
            logits = logits + torch.sparse.mm(xs, sparse)
            penalty = penalty + (sparse**2).sum()
        loss = torch.nn.functional.cross_entropy(logits, y) + l2 * penalty
        loss.backward()
        return loss

    optimiser.step(closure)
    return Classifier(
        weights.detach().numpy().astype(np.float32),
        bias.detach().numpy().astype(np.float32),
        [],
        sparse.detach().numpy().astype(np.float32) if sparse is not None else None,
        features,
        dense_scale,
    )


def texts_by_language(entries: list[Entry]) -> dict[str, list[str]]:
    """The FAQ's questions and answers per language (the language detector learns its neutral words from them)."""
    texts: dict[str, list[str]] = {}
    for entry in entries:
        texts.setdefault(entry.language, []).extend(entry.questions + [entry.answer])
    return texts


def train(
    entries: list[Entry], rows, vectors, encode=None, progress: bool = False, options: dict | None = None
) -> dict:
    """Build-time components, keyed by the file or folder name they are saved under in the index directory."""
    from ..lexical import BM25

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
        classifier = train_classifier(
            vectors[question_rows], labels, len(groups), texts=texts, l2_per_example=options.get("l2", CLASSIFIER_L2)
        )
        classifier.groups = groups
        parts["classifier"] = classifier
    ann = options.get("ann")
    if ann:
        parts["ann"] = ann
    return parts
