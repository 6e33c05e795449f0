"""Operator analytics over a period: containment, escalations, callbacks, FAQ answers, unanswered questions."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from handoff.models import BotEvent, CallbackRequest, Contact, Conversation, Feedback, utcnow

from .contacts import upsert_contact
from .idempotency import Outcome, run_once
from .privacy import MARKER as ERASED

FOLLOW_UP_WINDOW = timedelta(minutes=30)  # a hand-off this soon after an answer counts against the answer
DEFAULT_CLUSTER_THRESHOLD = 0.45
MAX_CLUSTER_TEXTS = 2000
UNANSWERED_TYPES = ("kb_decline", "none_of_these")


@dataclass(frozen=True)
class EventInput:
    idempotency_key: str
    sender_id: str
    channel: str
    language: str
    type: str
    question: str
    entry_id: str | None
    confidence: float | None


def record_event(session: Session, data: EventInput, now: datetime | None = None) -> Outcome:
    """Store one knowledge-base event once per idempotency key."""
    now = now or utcnow()

    def work(session: Session) -> tuple[int, dict[str, Any]]:
        contact = upsert_contact(session, data.channel, data.sender_id, now, data.language)
        session.add(
            BotEvent(
                contact=contact,
                channel=data.channel,
                sender_id=data.sender_id,
                language=data.language,
                type=data.type,
                question=data.question,
                entry_id=data.entry_id,
                confidence=data.confidence,
                created_at=now,
            )
        )
        session.flush()
        return 201, {"ok": True}

    return run_once(session, "event", data.idempotency_key, data, work)


@dataclass(frozen=True)
class Period:
    """Whole days [start, end] in UTC, optionally one channel and one language."""

    start: date
    end: date
    channel: str | None = None
    language: str | None = None

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=timezone.utc)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=timezone.utc)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class Cluster:
    """Questions of one topic: ``indices`` into the clustered texts, ``distinct`` texts with the medoid first."""

    indices: list[int]
    distinct: list[str]

    @property
    def medoid(self) -> str:
        """The most typical question: the one most similar, on average, to the others."""
        return self.distinct[0]


def cluster_questions(
    texts: list[str], encode: Callable[[list[str]], Any], threshold: float = DEFAULT_CLUSTER_THRESHOLD
) -> list[Cluster]:
    """Average-linkage agglomerative clustering by cosine (scikit-learn): two groups merge while the mean
    similarity between their questions is at least ``threshold`` (a raw cosine of ``encode``'s vectors).

    Unlike a greedy pass that lets one centroid drift over everything near it, a merge needs every pair to be
    similar on average, so unrelated one-offs stay apart (bench/insights_clustering.py). Identical texts
    (ignoring case and spaces) are encoded once and weigh as often as they were asked. Largest first; inside a
    cluster the medoid leads, then the others by frequency.
    """
    import numpy as np

    groups: dict[str, list[int]] = defaultdict(list)
    shown: dict[str, str] = {}
    for position, text in enumerate(texts[:MAX_CLUSTER_TEXTS]):
        norm = " ".join(text.lower().split())
        if norm:
            groups[norm].append(position)
            shown.setdefault(norm, " ".join(text.split()))
    keys = sorted(groups, key=lambda k: -len(groups[k]))
    if not keys:
        return []
    vectors = np.asarray(encode([shown[k] for k in keys]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    weights = np.array([len(groups[k]) for k in keys], dtype=np.float32)
    labels = _average_linkage(vectors, threshold)
    result = []
    for label in set(labels.tolist()):
        rows = np.flatnonzero(labels == label)
        sims = vectors[rows] @ vectors[rows].T
        typical = (sims * weights[rows]).sum(axis=1)  # weighted mean similarity to the cluster (times its size)
        medoid = int(rows[int(np.argmax(typical))])
        ordered = [medoid] + [int(r) for r in rows if r != medoid]
        indices = sorted(i for r in ordered for i in groups[keys[r]])
        result.append(Cluster(indices, [shown[keys[r]] for r in ordered]))
    result.sort(key=lambda c: (-len(c.indices), c.medoid))
    return result


def _average_linkage(vectors: Any, threshold: float) -> Any:
    import numpy as np

    if len(vectors) == 1:
        return np.zeros(1, dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=max(1.0 - threshold, 1e-9)
    )
    return model.fit_predict(vectors)


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max((later - earlier).total_seconds(), 0.0)


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "median_seconds": None, "mean_seconds": None, "max_seconds": None}
    return {
        "count": len(values),
        "median_seconds": round(statistics.median(values), 1),
        "mean_seconds": round(statistics.fmean(values), 1),
        "max_seconds": round(max(values), 1),
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


Classify = Callable[[list[str]], list[str]]


@dataclass
class _Data:
    events: list[BotEvent]
    conversations: list[Conversation]
    callbacks: list[CallbackRequest]
    feedback: list[Any]  # rows of (Feedback, channel, sender_id)


def _load(session: Session, period: Period) -> _Data:
    def scoped(query, model):
        query = query.where(model.created_at >= period.since, model.created_at < period.until)
        if period.language:
            query = query.where(model.language == period.language)
        return query

    events_q = scoped(select(BotEvent), BotEvent)
    conversations_q = scoped(select(Conversation), Conversation).options(
        selectinload(Conversation.messages), selectinload(Conversation.satisfaction)
    )
    callbacks_q = scoped(select(CallbackRequest), CallbackRequest)
    feedback_q = scoped(select(Feedback, Contact.channel, Contact.sender_id).join(Contact), Feedback)
    if period.channel:
        events_q = events_q.where(BotEvent.channel == period.channel)
        conversations_q = conversations_q.where(Conversation.channel == period.channel)
        callbacks_q = callbacks_q.where(CallbackRequest.channel == period.channel)
        feedback_q = feedback_q.where(Contact.channel == period.channel)
    return _Data(
        events=list(session.scalars(events_q.order_by(BotEvent.created_at, BotEvent.id))),
        conversations=list(session.scalars(conversations_q.order_by(Conversation.created_at, Conversation.id))),
        callbacks=list(session.scalars(callbacks_q.order_by(CallbackRequest.created_at))),
        feedback=list(session.execute(feedback_q.order_by(Feedback.created_at))),
    )


def _event_kinds(events: list[BotEvent], classify: Classify | None) -> dict[int, str]:
    """question / request / small_talk per event id; every event is a question without a classifier, and an
    erased one (no words left) stays one, so a privacy deletion changes no figure."""
    from .question_kinds import QUESTION

    kinds = {e.id: QUESTION for e in events}
    for event in events:  # erased: what it was is kept in the marker (services/privacy.py)
        if event.question.startswith(ERASED):
            kinds[event.id] = event.question[len(ERASED) :].strip() or QUESTION
    # What the knowledge base answered was a question; only the rest needs reading.
    readable = [e for e in events if e.type != "kb_answer" and e.question.strip() and not e.question.startswith(ERASED)]
    if classify is not None and readable:
        kinds.update(zip((e.id for e in readable), classify([e.question for e in readable])))
    return kinds


def _customers(data: _Data, kinds: dict[int, str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Containment and self-service resolution per customer (channel + sender id), in total and per group.

    contained: no person involved (no hand-off, no callback). asked: at least one question to the bot (or a 👍/👎).
    self-served: asked, no person involved, and got at least one answer they did not reject with 👎.
    """
    from .question_kinds import QUESTION

    seen: dict[tuple[str, str], str] = {}
    for item in [*data.events, *data.conversations, *data.callbacks]:
        seen.setdefault((item.channel, item.sender_id), item.language)
    for row in data.feedback:
        seen.setdefault((row.channel, row.sender_id), row.Feedback.language)
    person = {(c.channel, c.sender_id) for c in [*data.conversations, *data.callbacks]}
    asked = {(e.channel, e.sender_id) for e in data.events if kinds[e.id] == QUESTION}
    asked |= {(r.channel, r.sender_id) for r in data.feedback}
    answered: dict[tuple[str, str], set[str]] = defaultdict(set)
    rejected: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in data.events:
        if event.type == "kb_answer" and event.entry_id:
            answered[(event.channel, event.sender_id)].add(event.entry_id)
    for row in data.feedback:
        (answered if row.Feedback.helpful else rejected)[(row.channel, row.sender_id)].add(row.Feedback.entry_id)
    served = {key for key in asked - person if answered.get(key, set()) - rejected.get(key, set())}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for key, language in seen.items():
        group = groups.setdefault(
            (key[0], language),
            {
                "channel": key[0],
                "language": language,
                "conversations": 0,
                "contained": 0,
                "asked": 0,
                "self_served": 0,
                "escalations": 0,
            },
        )
        group["conversations"] += 1
        group["contained"] += key not in person
        group["asked"] += key in asked
        group["self_served"] += key in served
    for conversation in data.conversations:
        key = (conversation.channel, conversation.sender_id)
        groups[(conversation.channel, seen.get(key, conversation.language))]["escalations"] += 1
    by_group = sorted(groups.values(), key=lambda g: (g["channel"], g["language"]))
    for group in by_group:
        group["containment"] = _rate(group["contained"], group["conversations"])
        group["self_service"] = _rate(group["self_served"], group["asked"])
    contained = sum(1 for key in seen if key not in person)
    totals = {
        "conversations": len(seen),
        "contained": contained,
        "containment": _rate(contained, len(seen)),
        "asked": len(asked & set(seen)),
        "self_served": len(served),
        "self_service": _rate(len(served), len(asked & set(seen))),
    }
    return totals, by_group


def _entries(data: _Data) -> list[dict[str, Any]]:
    """Answers per FAQ entry, their 👍/👎, and hand-offs that followed them."""
    events, feedback = data.events, data.feedback
    answers = Counter(e.entry_id for e in events if e.type == "kb_answer" and e.entry_id)
    up = Counter(row.Feedback.entry_id for row in feedback if row.Feedback.helpful)
    down = Counter(row.Feedback.entry_id for row in feedback if not row.Feedback.helpful)
    last_answer: dict[tuple[str, str], list[BotEvent]] = defaultdict(list)
    for event in events:
        if event.type == "kb_answer" and event.entry_id:
            last_answer[(event.channel, event.sender_id)].append(event)
    followed: Counter = Counter()
    for conversation in data.conversations:
        before = [
            e
            for e in last_answer.get((conversation.channel, conversation.sender_id), [])
            if e.created_at <= conversation.created_at and conversation.created_at - e.created_at <= FOLLOW_UP_WINDOW
        ]
        if before:
            followed[before[-1].entry_id] += 1
    entry_ids = sorted(set(answers) | set(up) | set(down), key=lambda e: (-answers[e], e))
    return [
        {
            "entry_id": e,
            "answers": answers[e],
            "helpful": up[e],
            "not_helpful": down[e],
            "helpful_rate": _rate(up[e], up[e] + down[e]),
            "followed_by_handoff": followed[e],
            "handoff_rate": _rate(followed[e], answers[e]),
        }
        for e in entry_ids
    ]


def _clusters(unanswered: list[dict[str, Any]], encode, threshold: float) -> list[dict[str, Any]]:
    readable = [u for u in unanswered if u["question"].strip()]
    clusters = []
    for number, cluster in enumerate(cluster_questions([u["question"] for u in readable], encode, threshold), start=1):
        items = [readable[i] for i in cluster.indices]
        clusters.append(
            {
                "cluster": number,
                "size": len(items),
                "label": cluster.medoid,
                "medoid": cluster.medoid,
                "medoid_language": next(
                    i["language"] for i in items if " ".join(i["question"].split()) == cluster.medoid
                ),
                "languages": sorted({i["language"] for i in items}),
                "kinds": dict(Counter(i["kind"] for i in items)),
                "examples": cluster.distinct[:10],
            }
        )
    return clusters


def _people(conversations: list[Conversation]) -> dict[str, Any]:
    """Reply and resolution times, giving up, satisfaction."""
    first_reply, resolution = [], []
    for conversation in conversations:
        replies = [
            m.when
            for m in conversation.messages
            if m.sender_type == "agent" and m.message_type == "outgoing" and not m.private
        ]
        if replies:
            first_reply.append(_seconds(min(replies), conversation.created_at))
        if conversation.status == "resolved":
            resolution.append(_seconds(conversation.ended_at, conversation.created_at))
    gave_up = [
        c
        for c in conversations
        if c.status == "cancelled" and c.first_claimed_at is None and c.end_reason == "customer_left"
    ]
    scores = [c.satisfaction.score for c in conversations if c.satisfaction is not None]
    return {"first_reply": first_reply, "resolution": resolution, "gave_up": gave_up, "scores": scores}


def _trend(period: Period, data: _Data, unanswered_events: list[BotEvent]) -> list[dict[str, Any]]:
    """Per day, with the summary's definitions: customers, escalations, unanswered questions, answers."""
    per_day: dict[date, dict[str, Any]] = {
        d: {"day": d.isoformat(), "conversations": set(), "escalations": 0, "unanswered": 0, "answers": 0}
        for d in period.days()
    }
    for item in [*data.events, *data.conversations, *data.callbacks]:
        day = per_day.get(item.created_at.date())
        if day is not None:
            day["conversations"].add((item.channel, item.sender_id))
    for row in data.feedback:
        day = per_day.get(row.Feedback.created_at.date())
        if day is not None:
            day["conversations"].add((row.channel, row.sender_id))
    for conversation in data.conversations:
        if conversation.created_at.date() in per_day:
            per_day[conversation.created_at.date()]["escalations"] += 1
    for event in data.events:
        day = per_day.get(event.created_at.date())
        if day is not None:
            day["answers"] += event.type == "kb_answer"
    for event in unanswered_events:
        day = per_day.get(event.created_at.date())
        if day is not None:
            day["unanswered"] += 1
    return [dict(d, conversations=len(d["conversations"])) for d in per_day.values()]


def _summary(
    data: _Data,
    totals: dict[str, Any],
    entries: list[dict[str, Any]],
    people: dict[str, Any],
    kinds: dict[int, str],
    missed: list[BotEvent],
    unanswered: int,
    overdue: list[CallbackRequest],
) -> dict[str, Any]:
    """The report's headline figures: customers, escalations, callbacks, answers, questions, people's times."""
    from .question_kinds import QUESTION, REQUEST

    callbacks = data.callbacks
    scores = people["scores"]
    return {
        **totals,
        "escalations": len(data.conversations),
        "callbacks_requested": len(callbacks),
        "callbacks_done": sum(1 for c in callbacks if c.status == "done"),
        "callbacks_overdue": len(overdue),
        "answers": sum(e["answers"] for e in entries),
        "answers_rejected": sum(1 for row in data.feedback if not row.Feedback.helpful),
        "unanswered": unanswered,
        "requests_for_person": sum(1 for e in missed if kinds[e.id] == REQUEST),
        "small_talk": sum(1 for e in missed if kinds[e.id] not in (QUESTION, REQUEST)),
        "gave_up": len(people["gave_up"]),
        "satisfaction_count": len(scores),
        "satisfaction_mean": round(statistics.fmean(scores), 2) if scores else None,
        "first_reply_median_seconds": _stats(people["first_reply"])["median_seconds"],
        "resolution_median_seconds": _stats(people["resolution"])["median_seconds"],
    }


def _unanswered_row(e: BotEvent) -> dict[str, Any]:
    return {
        "question": e.question,
        "language": e.language,
        "kind": e.type,
        "entry_id": e.entry_id,
        "day": e.created_at.date().isoformat(),
    }


def _gave_up_row(c: Conversation) -> dict[str, Any]:
    return {
        "conversation_id": c.id,
        "channel": c.channel,
        "language": c.language,
        "waited_seconds": _seconds(c.ended_at, c.created_at),
    }


def report(
    session: Session,
    period: Period,
    encode: Callable[[list[str]], Any] | None = None,
    threshold: float = DEFAULT_CLUSTER_THRESHOLD,
    now: datetime | None = None,
    classify: Classify | None = None,
) -> dict[str, Any]:
    """Every figure of the insight pages for ``period``; clusters only when ``encode`` is given.

    An unanswered question: a message the knowledge base declined, or whose suggestions the customer rejected
    ("none of these"), unless ``classify`` reads it as a request for a person or small talk. An answer rejected
    with 👎 is no unanswered question: it counts as a rejected answer (and against its entry).
    """
    from .question_kinds import QUESTION

    now = now or utcnow()
    data = _load(session, period)
    kinds = _event_kinds(data.events, classify)
    missed = [e for e in data.events if e.type in UNANSWERED_TYPES]
    unanswered_events = [e for e in missed if kinds[e.id] == QUESTION]
    unanswered = [_unanswered_row(e) for e in unanswered_events]
    totals, by_group = _customers(data, kinds)
    entries = _entries(data)
    people = _people(data.conversations)
    callbacks = data.callbacks
    overdue = [c for c in callbacks if c.status in ("pending", "claimed") and c.window_end < now]
    score_counts = Counter(people["scores"])
    return {
        "period": {
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "channel": period.channel,
            "language": period.language,
        },
        "summary": _summary(data, totals, entries, people, kinds, missed, len(unanswered_events), overdue),
        "by_channel_language": by_group,
        "reasons": [{"reason": r, "count": n} for r, n in Counter(c.reason for c in data.conversations).most_common()],
        "callbacks": [
            {"status": status, "count": sum(1 for c in callbacks if c.status == status)}
            for status in ("pending", "claimed", "done", "no_answer", "cancelled")
        ]
        + [{"status": "overdue", "count": len(overdue)}],
        "entries": entries,
        "followed_by_handoff": sorted(
            (e for e in entries if e["followed_by_handoff"]), key=lambda e: (-e["followed_by_handoff"], e["entry_id"])
        ),
        "clusters": _clusters(unanswered, encode, threshold) if encode is not None and unanswered else [],
        "unanswered": unanswered,
        "times": [
            dict(metric="first_agent_reply", **_stats(people["first_reply"])),
            dict(metric="resolution", **_stats(people["resolution"])),
        ],
        "gave_up": [_gave_up_row(c) for c in people["gave_up"]],
        "satisfaction": [{"score": s, "count": score_counts[s]} for s in range(1, 6)],
        "trend": _trend(period, data, unanswered_events),
    }


TABLES = (
    "summary",
    "by_channel_language",
    "reasons",
    "callbacks",
    "entries",
    "followed_by_handoff",
    "clusters",
    "unanswered",
    "times",
    "gave_up",
    "satisfaction",
    "trend",
)


def table_rows(data: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """One table of a report as rows of plain values (for CSV)."""
    if table == "summary":
        return [{"metric": k, "value": v} for k, v in data["summary"].items()]
    rows = data[table]
    if table == "clusters":
        return [
            dict(
                r,
                kinds="; ".join(f"{k}={v}" for k, v in r["kinds"].items()),
                languages=",".join(r["languages"]),
                examples=" | ".join(r["examples"]),
            )
            for r in rows
        ]
    return rows
