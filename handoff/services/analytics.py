"""Operator analytics over a period: containment, escalations, callbacks, FAQ answers, unanswered questions."""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from handoff.models import BotEvent, CallbackRequest, Contact, Conversation, Feedback, Message, utcnow

from .contacts import upsert_contact
from .idempotency import Outcome, run_once

FOLLOW_UP_WINDOW = timedelta(minutes=30)  # a hand-off this soon after an answer counts against the answer
DEFAULT_CLUSTER_THRESHOLD = 0.5
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
        session.add(BotEvent(
            contact=contact, channel=data.channel, sender_id=data.sender_id, language=data.language, type=data.type,
            question=data.question, entry_id=data.entry_id, confidence=data.confidence, created_at=now,
        ))
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


def cluster_questions(texts: list[str], encode: Callable[[list[str]], Any],
                      threshold: float = DEFAULT_CLUSTER_THRESHOLD) -> list[tuple[list[int], list[str]]]:
    """Greedy clustering by cosine: each text joins the closest cluster centroid above ``threshold``.

    Returns (indices into ``texts``, distinct texts by frequency) per cluster, largest first. Identical
    texts (ignoring case and spaces) are encoded once.
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
    centroids: list[Any] = []
    members: list[list[int]] = []
    for row, vector in enumerate(vectors):
        best, best_score = -1, threshold
        for number, centroid in enumerate(centroids):
            score = float(vector @ centroid / max(np.linalg.norm(centroid), 1e-12))
            if score >= best_score:
                best, best_score = number, score
        if best < 0:
            centroids.append(vector.copy() * len(groups[keys[row]]))
            members.append([row])
        else:
            centroids[best] = centroids[best] + vector * len(groups[keys[row]])
            members[best].append(row)
    result = []
    for rows in members:
        indices = sorted(i for r in rows for i in groups[keys[r]])
        result.append((indices, [shown[keys[r]] for r in rows]))
    result.sort(key=lambda item: (-len(item[0]), item[1][0]))
    return result


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max((later - earlier).total_seconds(), 0.0)


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "median_seconds": None, "mean_seconds": None, "max_seconds": None}
    return {"count": len(values), "median_seconds": round(statistics.median(values), 1),
            "mean_seconds": round(statistics.fmean(values), 1), "max_seconds": round(max(values), 1)}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def report(session: Session, period: Period, encode: Callable[[list[str]], Any] | None = None,
           threshold: float = DEFAULT_CLUSTER_THRESHOLD, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of the insight pages for ``period``; clusters only when ``encode`` is given."""
    now = now or utcnow()

    def scoped(query, model):
        query = query.where(model.created_at >= period.since, model.created_at < period.until)
        if period.language:
            query = query.where(model.language == period.language)
        return query

    events_q = scoped(select(BotEvent), BotEvent)
    conversations_q = scoped(select(Conversation), Conversation).options(
        selectinload(Conversation.messages), selectinload(Conversation.satisfaction))
    callbacks_q = scoped(select(CallbackRequest), CallbackRequest)
    feedback_q = scoped(select(Feedback, Contact.channel, Contact.sender_id).join(Contact), Feedback)
    if period.channel:
        events_q = events_q.where(BotEvent.channel == period.channel)
        conversations_q = conversations_q.where(Conversation.channel == period.channel)
        callbacks_q = callbacks_q.where(CallbackRequest.channel == period.channel)
        feedback_q = feedback_q.where(Contact.channel == period.channel)
    events = session.scalars(events_q.order_by(BotEvent.created_at, BotEvent.id)).all()
    conversations = session.scalars(conversations_q.order_by(Conversation.created_at, Conversation.id)).all()
    callbacks = session.scalars(callbacks_q.order_by(CallbackRequest.created_at)).all()
    feedback = session.execute(feedback_q.order_by(Feedback.created_at)).all()

    # who talked to the bot, and who needed a person
    seen: dict[tuple[str, str], str] = {}
    for item in [*events, *conversations, *callbacks]:
        seen.setdefault((item.channel, item.sender_id), item.language)
    for row in feedback:
        seen.setdefault((row.channel, row.sender_id), row.Feedback.language)
    person = {(c.channel, c.sender_id) for c in conversations} | {(c.channel, c.sender_id) for c in callbacks}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for (channel, sender), language in seen.items():
        group = groups.setdefault((channel, language), {"channel": channel, "language": language,
                                                        "conversations": 0, "contained": 0, "escalations": 0})
        group["conversations"] += 1
        group["contained"] += (channel, sender) not in person
    for conversation in conversations:
        key = (conversation.channel, seen.get((conversation.channel, conversation.sender_id), conversation.language))
        groups[key]["escalations"] += 1
    by_group = sorted(groups.values(), key=lambda g: (g["channel"], g["language"]))
    for group in by_group:
        group["containment"] = _rate(group["contained"], group["conversations"])
    total = len(seen)
    contained = total - len(person & set(seen))

    reasons = Counter(c.reason for c in conversations)
    overdue = [c for c in callbacks if c.status in ("pending", "claimed") and c.window_end < now]
    callback_rows = [
        {"status": status, "count": sum(1 for c in callbacks if c.status == status)}
        for status in ("pending", "claimed", "done", "no_answer", "cancelled")
    ]

    # answers per entry, their feedback, and hand-offs that followed them
    answers = Counter(e.entry_id for e in events if e.type == "kb_answer" and e.entry_id)
    up = Counter(row.Feedback.entry_id for row in feedback if row.Feedback.helpful)
    down = Counter(row.Feedback.entry_id for row in feedback if not row.Feedback.helpful)
    last_answer: dict[tuple[str, str], list[BotEvent]] = defaultdict(list)
    for event in events:
        if event.type == "kb_answer" and event.entry_id:
            last_answer[(event.channel, event.sender_id)].append(event)
    followed = Counter()
    for conversation in conversations:
        before = [e for e in last_answer.get((conversation.channel, conversation.sender_id), [])
                  if e.created_at <= conversation.created_at and conversation.created_at - e.created_at <= FOLLOW_UP_WINDOW]
        if before:
            followed[before[-1].entry_id] += 1
    entry_ids = sorted(set(answers) | set(up) | set(down), key=lambda e: (-answers[e], e))
    entries = [{"entry_id": e, "answers": answers[e], "helpful": up[e], "not_helpful": down[e],
                "helpful_rate": _rate(up[e], up[e] + down[e]), "followed_by_handoff": followed[e],
                "handoff_rate": _rate(followed[e], answers[e])} for e in entry_ids]
    often_followed = sorted((e for e in entries if e["followed_by_handoff"]),
                            key=lambda e: (-e["followed_by_handoff"], e["entry_id"]))

    # unanswered questions
    unanswered = [{"question": e.question, "language": e.language, "kind": e.type, "entry_id": e.entry_id}
                  for e in events if e.type in UNANSWERED_TYPES and e.question.strip()]
    unanswered += [{"question": row.Feedback.question, "language": row.Feedback.language, "kind": "not_helpful",
                    "entry_id": row.Feedback.entry_id} for row in feedback
                   if not row.Feedback.helpful and row.Feedback.question.strip()]
    clusters = []
    if encode is not None and unanswered:
        for number, (indices, distinct) in enumerate(cluster_questions([u["question"] for u in unanswered],
                                                                        encode, threshold), start=1):
            items = [unanswered[i] for i in indices]
            clusters.append({
                "cluster": number, "size": len(items), "label": distinct[0],
                "languages": sorted({i["language"] for i in items}),
                "kinds": dict(Counter(i["kind"] for i in items)), "examples": distinct[:10],
            })

    # people: reply and resolution times, giving up, satisfaction
    first_reply, resolution = [], []
    for conversation in conversations:
        replies = [m.when for m in conversation.messages
                   if m.sender_type == "agent" and m.message_type == "outgoing" and not m.private]
        if replies:
            first_reply.append(_seconds(min(replies), conversation.created_at))
        if conversation.status == "resolved":
            resolution.append(_seconds(conversation.ended_at, conversation.created_at))
    gave_up = [c for c in conversations
               if c.status == "cancelled" and c.first_claimed_at is None and c.end_reason == "customer_left"]
    scores = [c.satisfaction.score for c in conversations if c.satisfaction is not None]
    score_counts = Counter(scores)

    # trend per day
    per_day: dict[date, dict[str, Any]] = {d: {"day": d.isoformat(), "conversations": set(), "escalations": 0,
                                               "unanswered": 0, "answers": 0} for d in period.days()}
    for item in [*events, *conversations, *callbacks]:
        day = per_day.get(item.created_at.date())
        if day is not None:
            day["conversations"].add((item.channel, item.sender_id))
    for conversation in conversations:
        if conversation.created_at.date() in per_day:
            per_day[conversation.created_at.date()]["escalations"] += 1
    for event in events:
        day = per_day.get(event.created_at.date())
        if day is not None:
            day["answers"] += event.type == "kb_answer"
            day["unanswered"] += event.type in UNANSWERED_TYPES
    trend = [dict(d, conversations=len(d["conversations"])) for d in per_day.values()]

    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                   "channel": period.channel, "language": period.language},
        "summary": {
            "conversations": total, "contained": contained, "containment": _rate(contained, total),
            "escalations": len(conversations), "callbacks_requested": len(callbacks),
            "callbacks_done": sum(1 for c in callbacks if c.status == "done"), "callbacks_overdue": len(overdue),
            "answers": sum(answers.values()), "unanswered": len(unanswered), "gave_up": len(gave_up),
            "satisfaction_count": len(scores),
            "satisfaction_mean": round(statistics.fmean(scores), 2) if scores else None,
            "first_reply_median_seconds": _stats(first_reply)["median_seconds"],
            "resolution_median_seconds": _stats(resolution)["median_seconds"],
        },
        "by_channel_language": by_group,
        "reasons": [{"reason": r, "count": n} for r, n in reasons.most_common()],
        "callbacks": callback_rows + [{"status": "overdue", "count": len(overdue)}],
        "entries": entries,
        "followed_by_handoff": often_followed,
        "clusters": clusters,
        "unanswered": unanswered,
        "times": [dict(metric="first_agent_reply", **_stats(first_reply)),
                  dict(metric="resolution", **_stats(resolution))],
        "gave_up": [{"conversation_id": c.id, "channel": c.channel, "language": c.language,
                     "waited_seconds": _seconds(c.ended_at, c.created_at)} for c in gave_up],
        "satisfaction": [{"score": s, "count": score_counts[s]} for s in range(1, 6)],
        "trend": trend,
    }


TABLES = ("summary", "by_channel_language", "reasons", "callbacks", "entries", "followed_by_handoff", "clusters",
          "unanswered", "times", "gave_up", "satisfaction", "trend")


def table_rows(data: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """One table of a report as rows of plain values (for CSV)."""
    if table == "summary":
        return [{"metric": k, "value": v} for k, v in data["summary"].items()]
    rows = data[table]
    if table == "clusters":
        return [dict(r, kinds="; ".join(f"{k}={v}" for k, v in r["kinds"].items()),
                     languages=",".join(r["languages"]), examples=" | ".join(r["examples"])) for r in rows]
    return rows
