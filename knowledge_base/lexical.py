"""Lexical signal: BM25 over spaCy lookup lemmas (German and English), one document per entry."""
from __future__ import annotations

import functools
import json
import math
from pathlib import Path

K1 = 1.2
B = 0.75


@functools.lru_cache(maxsize=2)
def _nlp(language: str):
    import spacy

    nlp = spacy.blank(language)
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def lemmas(texts: list[str], language: str) -> list[list[str]]:
    """Lower-cased lemmas without stop words and punctuation, per text."""
    nlp = _nlp(language)
    out = []
    docs = [nlp(texts[0])] if len(texts) == 1 else nlp.pipe(texts, batch_size=512)  # pipe() costs for one
    for doc in docs:
        out.append([
            (tok.lemma_ or tok.text).lower() for tok in doc
            if not (tok.is_stop or tok.is_punct or tok.is_space) and any(c.isalnum() for c in tok.text)
        ])
    return out


class BM25:
    """BM25 scores of a query against documents (one per entry), normalised by the query's own weight."""

    def __init__(self, doc_terms: list[dict[str, int]], languages: list[str]):
        self.languages = languages
        self.doc_terms = doc_terms
        self.lengths = [sum(t.values()) for t in doc_terms]
        self._index()

    def _index(self) -> None:
        n = len(self.doc_terms)
        self.avg_length = (sum(self.lengths) / n) if n else 1.0
        df: dict[str, int] = {}
        for terms in self.doc_terms:
            for term in terms:
                df[term] = df.get(term, 0) + 1
        self.idf = {t: math.log(1.0 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        postings: dict[str, list[tuple[int, float]]] = {}
        for doc, terms in enumerate(self.doc_terms):
            norm = K1 * (1.0 - B + B * self.lengths[doc] / (self.avg_length or 1.0))
            for term, tf in terms.items():
                postings.setdefault(term, []).append((doc, self.idf[term] * tf * (K1 + 1.0) / (tf + norm)))
        self.postings = postings

    @classmethod
    def build(cls, documents: list[list[str]], languages: list[str]) -> "BM25":
        """``documents[i]`` holds the texts of entry i, in ``languages[i]``."""
        doc_terms: list[dict[str, int]] = [{} for _ in documents]
        by_language: dict[str, list[int]] = {}
        for i, language in enumerate(languages):
            by_language.setdefault(language, []).append(i)
        for language, positions in by_language.items():
            flat, owners = [], []
            for i in positions:
                flat.extend(documents[i])
                owners.extend([i] * len(documents[i]))
            for owner, terms in zip(owners, lemmas(flat, language)):
                bag = doc_terms[owner]
                for term in terms:
                    bag[term] = bag.get(term, 0) + 1
        return cls(doc_terms, languages)

    def scores(self, text: str, language: str, docs: list[int] | None = None) -> dict[int, float]:
        """Per matching document (of ``docs``, default all), its BM25 score divided by the best score the
        query could reach."""
        terms = set(lemmas([text], language)[0])
        if not terms:
            return {}
        ceiling = sum(self.idf.get(t, 0.0) * (K1 + 1.0) for t in terms)  # a doc holding every term, tf -> inf
        if ceiling <= 0:
            return {}
        if docs is not None:
            return self._scores_of(terms, docs, ceiling)
        totals: dict[int, float] = {}
        for term in terms:
            for doc, weight in self.postings.get(term, ()):
                totals[doc] = totals.get(doc, 0.0) + weight
        return {doc: score / ceiling for doc, score in totals.items()}

    def _scores_of(self, terms: set[str], docs: list[int], ceiling: float) -> dict[int, float]:
        out = {}
        for doc in docs:
            if doc >= len(self.doc_terms):
                continue
            bag = self.doc_terms[doc]
            norm = K1 * (1.0 - B + B * self.lengths[doc] / (self.avg_length or 1.0))
            total = 0.0
            for term in terms:
                tf = bag.get(term)
                if tf:
                    total += self.idf[term] * tf * (K1 + 1.0) / (tf + norm)
            if total:
                out[doc] = total / ceiling
        return out

    def replace(self, doc: int, texts: list[str] | None, language: str | None) -> None:
        """Change one document (``texts=None`` empties it) and refresh the statistics."""
        terms: dict[str, int] = {}
        for group in lemmas(texts, language) if texts else []:
            for term in group:
                terms[term] = terms.get(term, 0) + 1
        if doc == len(self.doc_terms):
            self.doc_terms.append(terms)
            self.lengths.append(0)
            self.languages.append(language or "en")
        self.doc_terms[doc] = terms
        self.lengths[doc] = sum(terms.values())
        self._index()

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"languages": self.languages, "docs": self.doc_terms}, ensure_ascii=False),
                              encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "BM25":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["docs"], data["languages"])
