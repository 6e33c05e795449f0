"""Measuring a knowledge base on labelled queries (``text,label``; label ``oos`` = not covered)."""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

from .. import scoring
from ..types import FAQError, SearchResult

OOS = "oos"


@dataclass
class Query:
    text: str
    label: str
    language: str | None = None


@dataclass
class Outcome:
    query: Query
    result: SearchResult
    ms: float

    @property
    def in_scope(self) -> bool:
        return self.query.label != OOS

    @property
    def offered(self) -> float:
        """Confidence that the right entry is among the first three (what a clarify question offers)."""
        return sum(h.confidence for h in self.result.hits[:3])

    @property
    def right(self) -> bool:
        return self.in_scope and self.top_ids[:1] == [self.query.label]

    @property
    def top_ids(self) -> list[str]:
        return [h.entry_id for h in self.result.hits]


def read_queries(path) -> list[Query]:
    """Labelled queries from a CSV with columns text,label[,language]."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            fields = [f.strip().lower() for f in reader.fieldnames or []]
            if "text" not in fields or "label" not in fields:
                raise FAQError(f"{path}:1: queries CSV needs the columns text,label[,language]")
            reader.fieldnames = fields
            queries = [
                Query(row["text"].strip(), row["label"].strip(), (row.get("language") or "").strip() or None)
                for row in reader
                if (row.get("text") or "").strip()
            ]
    except OSError as exc:
        raise FAQError(f"{path}: cannot read queries ({exc.strerror})") from exc
    if not queries:
        raise FAQError(f"{path}: no queries")
    return queries


def run_queries(kb, queries: list[Query], k: int = 5, progress: bool = False) -> list[Outcome]:
    """Search every query one at a time, timing each search."""
    from tqdm import tqdm

    kb.search("warm up", k=k)
    outcomes = []
    for query in tqdm(queries, desc="queries", unit="q", disable=not progress):
        started = time.perf_counter()
        result = kb.search(query.text, language=query.language, k=k)
        outcomes.append(Outcome(query, result, (time.perf_counter() - started) * 1000.0))
    return outcomes


def metrics(
    outcomes: list[Outcome], answer_threshold: float | None = None, clarify_threshold: float | None = None
) -> dict:
    """The contract's eval figures; with thresholds given, bands are recomputed from the confidences."""

    def band(o: Outcome) -> str:
        if answer_threshold is None:
            return o.result.band
        nearest = o.result.hits[0].score if o.result.hits else 0.0
        return scoring.band(o.result.confidence, o.offered, nearest, answer_threshold, clarify_threshold)

    inside = [o for o in outcomes if o.in_scope]
    outside = [o for o in outcomes if not o.in_scope]
    top1 = [o for o in inside if o.top_ids[:1] == [o.query.label]]
    top3 = [o for o in inside if o.query.label in o.top_ids[:3]]
    kept = [o for o in top1 if band(o) != "decline"]
    answered = [o for o in inside if band(o) == "answer"]
    answered_right = [o for o in answered if o.top_ids[:1] == [o.query.label]]
    declined_oos = [o for o in outside if band(o) == "decline"]
    times = sorted(o.ms for o in outcomes)

    def share(part, whole):
        return round(len(part) / len(whole), 4) if whole else None

    return {
        "n": len(outcomes),
        "n_in_scope": len(inside),
        "n_oos": len(outside),
        "top1_accuracy": share(top1, inside),
        "top3_accuracy": share(top3, inside),
        "in_scope_accuracy": share(kept, inside),
        "oos_recall": share(declined_oos, outside),
        "answer_rate": share(answered, inside),
        "answered_precision": share(answered_right, answered),
        "p50_ms": round(_percentile(times, 50), 2),
        "p95_ms": round(_percentile(times, 95), 2),
    }


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    rank = (len(sorted_values) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def calibrate(outcomes: list[Outcome], precision: float = 0.95, keep: float = 0.99) -> dict:
    """Thresholds from labelled outcomes.

    clarify (the decline boundary): the highest value that still lets through ``keep`` of the in-scope
    queries whose right entry is among the offered three; the out-of-scope queries tell how many of them
    it catches. answer: the lowest confidence above which at least ``precision`` of the answered queries
    (out-of-scope ones count as wrong) get the right entry, and never below the decline boundary.
    """
    ranked = sorted(outcomes, key=lambda o: o.result.confidence, reverse=True)
    answer_threshold, right = 1.0, 0
    for count, o in enumerate(ranked, start=1):
        right += o.right
        if right / count >= precision:
            answer_threshold = o.result.confidence
    answer_threshold = max(answer_threshold, 1e-4)
    offered = sorted(o.offered for o in outcomes if o.in_scope and o.query.label in o.top_ids[:3])
    if offered:
        clarify_threshold = offered[min(len(offered) - 1, int((1.0 - keep) * len(offered)))]
    else:
        clarify_threshold = answer_threshold
    return {
        "answer_threshold": round(max(answer_threshold, clarify_threshold), 4),
        "clarify_threshold": round(clarify_threshold, 4),
    }
