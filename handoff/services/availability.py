"""Who is online, whether the service takes hand-offs now, queue position and expected wait."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from handoff.models import Agent, Conversation, utcnow

from .hours import load_schedule

DEFAULT_PICKUP_SECONDS = 60  # until there is history: a minute to pick up a waiting conversation
DEFAULT_HANDLE_SECONDS = 6 * 60  # and six minutes for an agent to finish one
MAX_WAIT_SECONDS = 4 * 3600
SAMPLE_WINDOW = timedelta(hours=24)
SAMPLE_SIZE = 50
MIN_SAMPLES = 3


@dataclass(frozen=True)
class Availability:
    accepting: bool
    reason_not_accepting: str | None
    agents_online: int
    business_hours_open: bool
    next_opening: datetime | None
    timezone: str  # the service's zone (IANA name): business hours and next_opening are in it


def online_agents(session: Session, now: datetime, presence_timeout: int, language: str | None = None) -> list[Agent]:
    """Active agents marked online whose console was seen within ``presence_timeout`` seconds."""
    fresh = now - timedelta(seconds=presence_timeout)
    agents = session.scalars(
        select(Agent).where(Agent.active.is_(True), Agent.presence == "online", Agent.last_seen_at >= fresh)
    ).all()
    return [agent for agent in agents if agent.speaks(language)]


def open_counts(session: Session, agent_ids: list[int]) -> dict[int, int]:
    if not agent_ids:
        return {}
    rows = session.execute(
        select(Conversation.assignee_id, func.count())
        .where(Conversation.status == "open", Conversation.assignee_id.in_(agent_ids))
        .group_by(Conversation.assignee_id)
    ).all()
    counts = {agent_id: 0 for agent_id in agent_ids}
    counts.update({agent_id: count for agent_id, count in rows})
    return counts


def availability(
    session: Session, language: str | None, presence_timeout: int, default_timezone: str, now: datetime | None = None
) -> Availability:
    """Open hours first, then someone online who speaks ``language``."""
    now = now or utcnow()
    schedule = load_schedule(session, default_timezone)
    is_open = schedule.is_open(now)
    agents = len(online_agents(session, now, presence_timeout, language))
    reason = None
    if not is_open:
        reason = "outside_business_hours"
    elif agents == 0:
        reason = "no_agents_online"
    return Availability(reason is None, reason, agents, is_open, schedule.next_opening(now), schedule.timezone)


def queue_position(session: Session, conversation: Conversation) -> int:
    """1 for the oldest waiting conversation; 0 once it is no longer waiting."""
    if conversation.status != "pending":
        return 0
    ahead = session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.status == "pending",
            or_(
                Conversation.created_at < conversation.created_at,
                and_(Conversation.created_at == conversation.created_at, Conversation.id < conversation.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def _recent_durations(session: Session, start_column, end_column, now: datetime) -> list[float]:
    rows = session.execute(
        select(start_column, end_column)
        .where(end_column.is_not(None), end_column >= now - SAMPLE_WINDOW, start_column.is_not(None))
        .order_by(end_column.desc())
        .limit(SAMPLE_SIZE)
    ).all()
    return [max(0.0, (end - start).total_seconds()) for start, end in rows]


def estimate_wait(
    position: int,
    slots: int,
    free_slots: int,
    pickup_seconds: float,
    handle_seconds: float,
) -> int:
    """Expected seconds until an agent picks up the conversation at ``position``.

    Conversations ahead of it that fit into free agent slots are taken about as fast as recent
    pick-ups were; each further full round of the online agents' slots costs one typical
    handling time.
    """
    if position <= 0:
        return 0
    waiting_rounds = 0 if position <= free_slots else math.ceil((position - free_slots) / max(slots, 1))
    wait = pickup_seconds + waiting_rounds * handle_seconds
    return int(min(MAX_WAIT_SECONDS, round(wait)))


def expected_wait(
    session: Session, position: int, language: str | None, presence_timeout: int, now: datetime | None = None
) -> int:
    """``estimate_wait`` fed from recent pick-up and handling times and the agents online now."""
    if position <= 0:
        return 0
    now = now or utcnow()
    pickups = _recent_durations(session, Conversation.created_at, Conversation.first_claimed_at, now)
    handled = _recent_durations(session, Conversation.first_claimed_at, Conversation.ended_at, now)
    pickup = median(pickups) if len(pickups) >= MIN_SAMPLES else DEFAULT_PICKUP_SECONDS
    handle = median(handled) if len(handled) >= MIN_SAMPLES else DEFAULT_HANDLE_SECONDS
    agents = online_agents(session, now, presence_timeout, language)
    counts = open_counts(session, [agent.id for agent in agents])
    slots = sum(agent.capacity for agent in agents)
    free = sum(max(0, agent.capacity - counts[agent.id]) for agent in agents)
    if slots == 0:
        # Nobody online: the wait is at least until someone comes back; assume one agent.
        slots, free = 1, 0
    return estimate_wait(position, slots, free, pickup, handle)
