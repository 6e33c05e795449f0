"""Agent accounts: create and edit, log in with a rate limit, presence, and the demo accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.vocabulary import LANGUAGES
from handoff.models import PRESENCES, ROLES, Agent, LoginAttempt, utcnow

from . import audit
from .errors import Conflict, Invalid, NotFound, translatable
from .escalations import QueueConfig, announce_queue

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_IP = 20
# Checked against when the e-mail is unknown so a wrong address costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"too many failed logins; retry in {retry_after} s")
        self.retry_after = retry_after


class AccountLocked(TooManyAttempts):
    """Too many failed logins in a row: locked until an admin unlocks it or ``retry_after`` seconds pass.

    ``retry_after`` is 0 when only an admin can unlock. Unknown addresses answer the same way, so the
    message does not tell whether an account exists.
    """


@dataclass(frozen=True)
class Lockout:
    failures: int = 5  # failed logins in a row that lock the account
    minutes: int = 30  # 0 = until an admin unlocks

    def remaining(self, agent: Agent, now: datetime) -> int | None:
        """Seconds until the lock ends by itself (0 = never), or None when the account is not locked."""
        if agent.locked_at is None:
            return None
        if not self.minutes:
            return 0
        left = int((agent.locked_at + timedelta(minutes=self.minutes) - now).total_seconds())
        return left + 1 if left > 0 else None


@dataclass(frozen=True)
class AgentForm:
    email: str
    display_name: str
    role: str = "agent"
    languages: tuple[str, ...] = LANGUAGES
    capacity: int = 3
    active: bool = True


def _validate(form: AgentForm, known_languages: tuple[str, ...]) -> AgentForm:
    email = form.email.strip().lower()
    problems: list[tuple[str, dict]] = []
    if not EMAIL_RE.match(email) or len(email) > 254:
        problems.append((translatable("e-mail address looks wrong"), {}))
    if not form.display_name.strip() or len(form.display_name.strip()) > 100:
        problems.append((translatable("name is required (at most 100 characters)"), {}))
    if form.role not in ROLES:
        problems.append((translatable("role must be one of %(roles)s"), {"roles": ", ".join(ROLES)}))
    languages = tuple(lang for lang in form.languages if lang)
    if not languages or any(lang not in known_languages for lang in languages):
        problems.append(
            (translatable("languages must be among %(languages)s"), {"languages": ", ".join(known_languages)})
        )
    if not 1 <= form.capacity <= 50:
        problems.append((translatable("capacity must be 1 to 50"), {}))
    if problems:
        raise Invalid(problems)
    return AgentForm(email, form.display_name.strip(), form.role, languages, form.capacity, form.active)


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(translatable("the password needs at least %(n)d characters"), n=MIN_PASSWORD)


def create_agent(
    session: Session, form: AgentForm, password: str, known_languages: tuple[str, ...] = LANGUAGES
) -> Agent:
    form = _validate(form, known_languages)
    _check_password(password)
    if session.scalar(select(Agent.id).where(Agent.email == form.email)):
        raise Conflict(translatable("an agent with %(email)s exists already"), email=form.email)
    agent = Agent(
        email=form.email,
        display_name=form.display_name,
        role=form.role,
        languages=",".join(form.languages),
        capacity=form.capacity,
        active=form.active,
        password_hash=generate_password_hash(password),
    )
    session.add(agent)
    session.commit()
    return agent


def update_agent(
    session: Session,
    agent_id: int,
    form: AgentForm,
    actor: Agent,
    known_languages: tuple[str, ...] = LANGUAGES,
    queue: QueueConfig | None = None,
) -> Agent:
    form = _validate(form, known_languages)
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(translatable("no such agent"))
    if agent.id == actor.id and (form.role != "admin" or not form.active):
        raise Invalid(translatable("you cannot take away your own admin rights or deactivate yourself"))
    clash = session.scalar(select(Agent.id).where(Agent.email == form.email, Agent.id != agent.id))
    if clash:
        raise Conflict(translatable("an agent with %(email)s exists already"), email=form.email)
    if agent.active and not form.active:
        agent.session_version += 1  # logs them out everywhere
        agent.presence = "offline"
    agent.email, agent.display_name, agent.role = form.email, form.display_name, form.role
    agent.languages, agent.capacity, agent.active = ",".join(form.languages), form.capacity, form.active
    session.commit()
    announce_queue(session, queue)  # languages, capacity or a deactivation change who can take whom
    return agent


def set_password(session: Session, agent: Agent, password: str) -> None:
    _check_password(password)
    agent.password_hash = generate_password_hash(password)
    agent.session_version += 1
    session.commit()


def authenticate(
    session: Session,
    email: str,
    password: str,
    ip: str,
    now: datetime | None = None,
    lockout: Lockout = Lockout(),
    queue: QueueConfig | None = None,
) -> Agent | None:
    """The agent for these credentials, None when wrong; raises TooManyAttempts when rate-limited
    (per address, from one IP) and AccountLocked after ``lockout.failures`` wrong passwords in a row."""
    now = now or utcnow()
    email = (email or "").strip().lower()[:254]
    agent = session.scalar(select(Agent).where(Agent.email == email))
    if agent is not None and agent.locked_at is not None:
        remaining = lockout.remaining(agent, now)
        if remaining is not None:
            raise AccountLocked(remaining)
        agent.locked_at, agent.failed_logins = None, 0  # the lock ran out
    since = now - LOGIN_WINDOW
    failed = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.success.is_(False), LoginAttempt.created_at >= since)
    )
    by_ip = session.scalar(failed.where(LoginAttempt.ip == ip)) or 0
    if by_ip >= MAX_FAILURES_PER_IP:
        oldest = session.scalar(
            select(func.min(LoginAttempt.created_at)).where(
                LoginAttempt.success.is_(False), LoginAttempt.created_at >= since, LoginAttempt.ip == ip
            )
        )
        raise TooManyAttempts(max(int(((oldest or now) + LOGIN_WINDOW - now).total_seconds()) + 1, 1))
    if agent is None:
        _lock_like_an_account(session, email, now, lockout)
    ok = check_password_hash(agent.password_hash if agent else _DUMMY_HASH, password or "")
    ok = ok and agent is not None and agent.active
    session.add(LoginAttempt(email=email, ip=ip[:64], success=ok, created_at=now))
    if ok:
        session.execute(delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.success.is_(False)))
        agent.presence = "online"
        agent.last_seen_at = now
        agent.failed_logins = 0
    elif agent is not None:
        agent.failed_logins += 1
        if agent.failed_logins >= lockout.failures:
            agent.locked_at = now
            audit.record(
                session,
                "account_locked",
                "system",
                agent.email,
                {"failed_logins": agent.failed_logins},
                note="too many failed logins in a row",
                now=now,
            )
    session.commit()
    if ok:
        announce_queue(session, queue, now)  # someone on duty: waiting customers get a real estimate
    return agent if ok else None


def _lock_like_an_account(session: Session, email: str, now: datetime, lockout: Lockout) -> None:
    """An unknown address "locks" exactly like a known account: after ``lockout.failures`` wrong
    attempts, for ``lockout.minutes`` from the last one, with the same message and Retry-After,
    so a login form tells nobody which accounts exist."""
    failures = select(LoginAttempt.created_at).where(LoginAttempt.email == email, LoginAttempt.success.is_(False))
    if lockout.minutes:
        failures = failures.where(LoginAttempt.created_at >= now - timedelta(minutes=lockout.minutes))
    times = session.scalars(failures.order_by(LoginAttempt.created_at.desc()).limit(lockout.failures)).all()
    if len(times) < lockout.failures:
        return
    if not lockout.minutes:
        raise AccountLocked(0)
    locked_at = times[0].replace(tzinfo=now.tzinfo) if times[0].tzinfo is None else times[0]
    left = int((locked_at + timedelta(minutes=lockout.minutes) - now).total_seconds())
    if left > 0:
        raise AccountLocked(left + 1)


def unlock(session: Session, agent_id: int, actor: Agent | str, now: datetime | None = None) -> Agent:
    """Lift a lockout (and the address's failed-login count); audited."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(translatable("no such agent"))
    was = agent.failed_logins
    agent.locked_at, agent.failed_logins = None, 0
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == agent.email, LoginAttempt.success.is_(False)))
    audit.record(session, "account_unlocked", actor, agent.email, {"failed_logins": was}, now=now)
    session.commit()
    return agent


def set_presence(
    session: Session, agent: Agent, presence: str, now: datetime | None = None, queue: QueueConfig | None = None
) -> None:
    """Online, away or offline; waiting customers whose wait this changes are told at once."""
    if presence not in PRESENCES:
        raise Invalid(translatable("presence must be one of %(presences)s"), presences=", ".join(PRESENCES))
    agent.presence = presence
    agent.last_seen_at = now or utcnow()
    session.commit()
    announce_queue(session, queue, now)


def log_out(session: Session, agent: Agent, now: datetime | None = None, queue: QueueConfig | None = None) -> None:
    """Offline, and every console session of the agent ends on the server: a copied cookie is worth nothing."""
    agent.presence = "offline"
    agent.last_seen_at = now or utcnow()
    agent.session_version += 1
    session.commit()
    announce_queue(session, queue, now)


def touch(session: Session, agent: Agent, now: datetime | None = None, every: int = 20) -> None:
    """Note that the agent's console is alive; written at most every ``every`` seconds."""
    now = now or utcnow()
    if agent.last_seen_at is None or (now - agent.last_seen_at).total_seconds() >= every:
        agent.last_seen_at = now
        session.commit()


def ensure_account(
    session: Session, email: str, name: str, role: str, password: str, languages: tuple[str, ...]
) -> tuple[Agent, bool]:
    """The account for ``email``, created if missing; returns (agent, created). Never resets a password."""
    agent = session.scalar(select(Agent).where(Agent.email == email.lower()))
    if agent is not None:
        return agent, False
    form = AgentForm(email=email, display_name=name, role=role, languages=languages, capacity=3)
    return create_agent(session, form, password, languages), True


def password_matches(agent: Agent, password: str) -> bool:
    return check_password_hash(agent.password_hash, password)


def prune_login_attempts(session: Session, now: datetime | None = None) -> None:
    now = now or utcnow()
    session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - timedelta(days=1)))
    session.commit()
