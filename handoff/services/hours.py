"""Business hours and holidays in the service's time zone, and the run-time service settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from handoff.models import BusinessHours, Holiday, ServiceSettings, utcnow

from .errors import Invalid, translatable

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_HOURS = [(day, 8 * 60, 20 * 60) for day in range(5)] + [(5, 9 * 60, 16 * 60)]


@dataclass(frozen=True)
class Schedule:
    """Opening intervals per weekday plus closed dates, evaluated in ``timezone``."""

    timezone: str
    intervals: tuple[tuple[int, int, int], ...]  # (weekday, opens_minute, closes_minute)
    holidays: frozenset[date]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        return any(day == local.weekday() and opens <= minute < closes for day, opens, closes in self.intervals)

    def next_opening(self, now: datetime, horizon_days: int = 31) -> datetime | None:
        """The next moment the service opens (``now`` if it is open), or None within the horizon."""
        if self.is_open(now):
            return now
        local = now.astimezone(self.zone)
        for offset in range(horizon_days + 1):
            day = local.date() + timedelta(days=offset)
            if day in self.holidays:
                continue
            starts = sorted(opens for weekday, opens, _ in self.intervals if weekday == day.weekday())
            for opens in starts:
                candidate = datetime(day.year, day.month, day.day, opens // 60, opens % 60, tzinfo=self.zone)
                if candidate > now:
                    return candidate
        return None


def get_service_settings(session: Session, default_timezone: str = "Europe/Berlin") -> ServiceSettings:
    """The settings row; created with the default hours the first time it is asked for."""
    row = session.get(ServiceSettings, 1)
    if row is None:
        row = ServiceSettings(id=1, timezone=default_timezone, auto_assign=False)
        session.add(row)
        for weekday, opens, closes in DEFAULT_HOURS:
            session.add(BusinessHours(weekday=weekday, opens_minute=opens, closes_minute=closes))
        session.flush()
    return row


def load_schedule(session: Session, default_timezone: str = "Europe/Berlin") -> Schedule:
    settings = session.get(ServiceSettings, 1)
    if settings is None:
        return Schedule(default_timezone, tuple(DEFAULT_HOURS), frozenset())
    intervals = session.execute(
        select(BusinessHours.weekday, BusinessHours.opens_minute, BusinessHours.closes_minute)
    ).all()
    holidays = session.scalars(select(Holiday.day)).all()
    return Schedule(settings.timezone, tuple(tuple(row) for row in intervals), frozenset(holidays))


CLOCK_FORMAT = {"opens": translatable("opening time: use HH:MM"), "closes": translatable("closing time: use HH:MM")}


def parse_clock(value: str, field: str) -> int:
    """'08:30' -> 510 minutes; '24:00' is allowed as the end of a day."""
    try:
        hours, minutes = value.strip().split(":")
        total = int(hours) * 60 + int(minutes)
    except (ValueError, AttributeError):
        problem = CLOCK_FORMAT.get(field) or translatable("%(field)s: use HH:MM")
        raise Invalid(problem, details=[{"field": field, "message": "use HH:MM"}], field=field) from None
    if not 0 <= int(minutes) < 60 or not 0 <= total <= 1440:
        raise Invalid(translatable("%(value)s is not a time of day"), value=repr(value))
    return total


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def set_timezone(session: Session, timezone: str, auto_assign: bool) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            translatable("%(zone)s is not a known time zone (e.g. Europe/Berlin)"), zone=repr(timezone)
        ) from None
    row = get_service_settings(session, timezone)
    row.timezone = timezone
    row.auto_assign = auto_assign
    row.updated_at = utcnow()
    session.commit()


def add_interval(session: Session, weekday: int, opens: str, closes: str) -> BusinessHours:
    if weekday not in range(7):
        raise Invalid(translatable("weekday must be 0 (Monday) to 6 (Sunday)"))
    opens_minute, closes_minute = parse_clock(opens, "opens"), parse_clock(closes, "closes")
    if opens_minute >= closes_minute:
        raise Invalid(translatable("the opening time must be before the closing time"))
    get_service_settings(session)
    interval = BusinessHours(weekday=weekday, opens_minute=opens_minute, closes_minute=closes_minute)
    session.add(interval)
    session.commit()
    return interval


def remove_interval(session: Session, interval_id: int) -> None:
    session.execute(delete(BusinessHours).where(BusinessHours.id == interval_id))
    session.commit()


def add_holiday(session: Session, day: str, name: str) -> Holiday:
    try:
        parsed = date.fromisoformat(day.strip())
    except (ValueError, AttributeError):
        raise Invalid(translatable("date: use YYYY-MM-DD")) from None
    if session.scalar(select(Holiday).where(Holiday.day == parsed)):
        raise Invalid(translatable("%(day)s is already a holiday"), day=parsed.isoformat())
    holiday = Holiday(day=parsed, name=(name or "").strip()[:100])
    session.add(holiday)
    session.commit()
    return holiday


def remove_holiday(session: Session, holiday_id: int) -> None:
    session.execute(delete(Holiday).where(Holiday.id == holiday_id))
    session.commit()
