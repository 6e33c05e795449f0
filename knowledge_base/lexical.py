"""Lexical signal: BM25 over spaCy lookup lemmas (German and English), one document per entry.

German needs more than lemmas to meet customers' words: nouns written in lower case ("rechnungen") are
lemmatised through their capitalised form, hyphenated words count as their parts too ("WLAN-Kennwort"), and a
compound counts as the words it is made of when the FAQ knows them ("Routerpasswort" -> router + passwort,
"Handyvertrag" -> handy + vertrag), on both sides: the FAQ's own compounds are split at build time against its
vocabulary and spaCy's German lexicon, so "Passwort vom Router" meets "Routerpasswort". English is left as it was.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

K1 = 1.2
B = 0.75
# Compound splitting (German): a part is a word the FAQ uses, at least this long; between the parts a
# linking element may stand (Vertrag-s-ende, Woche-n-ende).
MIN_PART = 4
LINKS = ("", "s", "es", "n", "en", "e")
SPLITS_COMPOUNDS = ("de",)


@functools.lru_cache(maxsize=2)
def _nlp(language: str):
    import spacy

    nlp = spacy.blank(language)
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@functools.lru_cache(maxsize=2)
def _lookup(language: str):
    return _nlp(language).get_pipe("lemmatizer").lookups.get_table("lemma_lookup")


@functools.lru_cache(maxsize=2)
def lexicon(language: str) -> frozenset:
    """The language's words as spaCy's lookup tables know them (lower case): what an FAQ's own compounds may be
    split into at build time ("Kündigungsfrist" -> kündigung + frist, though the FAQ says "Frist" nowhere)."""
    return frozenset(v.lower() for v in _lookup(language).values() if isinstance(v, str) and len(v) >= MIN_PART)


def _content(tok) -> bool:
    return not (tok.is_stop or tok.is_punct or tok.is_space) and any(c.isalnum() for c in tok.text)


def lemmas(texts: list[str], language: str) -> list[list[str]]:
    """Lower-cased lemmas without stop words and punctuation, per text."""
    nlp = _nlp(language)
    out = []
    docs = [nlp(texts[0])] if len(texts) == 1 else nlp.pipe(texts, batch_size=512)  # pipe() costs for one
    german = language in SPLITS_COMPOUNDS
    table = _lookup(language) if german else None
    for doc in docs:
        terms = []
        for tok in doc:
            if not _content(tok):
                continue
            if not german:
                terms.append((tok.lemma_ or tok.text).lower())
                continue
            terms.append(_german_lemma(tok.text, tok.lemma_, table))
            if "-" in tok.text.strip("-"):  # "WLAN-Kennwort": the parts as well
                terms.extend(
                    _german_lemma(part, part, table)
                    for part in tok.text.split("-")
                    if len(part) >= 2 and not nlp.vocab[part.lower()].is_stop
                )
        out.append(terms)
    return out


def _german_lemma(text: str, lemma: str, table) -> str:
    """The lookup lemma; a noun written in lower case ("rechnungen") through its capitalised form."""
    lemma = lemma or text
    if lemma == text and text[:1].islower():
        lemma = table.get(text[:1].upper() + text[1:], lemma)
    return lemma.lower()


def split_compound(term: str, vocabulary, language: str = "de") -> list[str]:
    """The parts of a compound that ``vocabulary`` knows (the head lemmatised), or [] when it is none.

    Two parts, or three when the first part is itself such a compound; the split whose shortest part is longest
    wins.
    """
    if language not in SPLITS_COMPOUNDS or len(term) < 2 * MIN_PART or not term.isalpha():
        return []
    table = _lookup(language)
    best: list[str] = []
    for cut in range(MIN_PART, len(term) - MIN_PART + 1):
        head = _head(term[cut:], vocabulary, table)
        if head is None:
            continue
        for link in LINKS:
            if not term[:cut].endswith(link) or cut - len(link) < MIN_PART:
                continue
            modifier = term[: cut - len(link)]
            if modifier in vocabulary:
                parts = [modifier, head]
            else:
                parts = split_compound(modifier, vocabulary, language)[:2]
                parts = parts + [head] if len(parts) == 2 else []
            if parts and (not best or min(map(len, parts)) > min(map(len, best))):
                best = parts
    return best


def _head(text: str, vocabulary, table) -> str | None:
    if text in vocabulary:
        return text
    lemma = table.get(text[:1].upper() + text[1:], None)
    return lemma.lower() if lemma and lemma.lower() in vocabulary else None


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
        self._splits: dict[str, list[str]] = {}

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
        vocabulary = {term for bag in doc_terms for term in bag}
        for language in set(languages) & set(SPLITS_COMPOUNDS):  # the FAQ's compounds count as their parts too
            words = vocabulary | lexicon(language)
            for bag, of in zip(doc_terms, languages):
                if of == language:
                    for term, tf in list(bag.items()):
                        for part in split_compound(term, words, language):
                            bag[part] = bag.get(part, 0) + tf
        return cls(doc_terms, languages)

    def query_terms(self, text: str, language: str) -> set[str]:
        """The query's lemmas, and the parts of its compounds that the documents know."""
        terms = set(lemmas([text], language)[0])
        if language in SPLITS_COMPOUNDS:
            splits = self._splits  # a cache of the split words; a live edit replaces it (_index)
            for term in list(terms):
                parts = splits.get(term)
                if parts is None:
                    if len(splits) > 100_000:  # customers' words are untrusted: the cache stays bounded
                        splits.clear()
                    parts = splits[term] = split_compound(term, self.idf, language)
                terms.update(parts)
        return terms

    def scores(self, text: str, language: str, docs: list[int] | None = None) -> dict[int, float]:
        """Per matching document (of ``docs``, default all), its BM25 score divided by the best score the
        query could reach."""
        terms = self.query_terms(text, language)
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
        if language in SPLITS_COMPOUNDS:
            words = set(self.idf) | set(terms) | lexicon(language)
            for term, tf in list(terms.items()):
                for part in split_compound(term, words, language):
                    terms[part] = terms.get(part, 0) + tf
        if doc == len(self.doc_terms):
            self.doc_terms.append(terms)
            self.lengths.append(0)
            self.languages.append(language or "en")
        self.doc_terms[doc] = terms
        self.lengths[doc] = sum(terms.values())
        self._index()

    def save(self, path: Path) -> None:
        Path(path).write_text(
            json.dumps({"languages": self.languages, "docs": self.doc_terms}, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, path: Path) -> "BM25":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["docs"], data["languages"])
