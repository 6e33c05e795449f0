"""Canned responses: prepared replies agents insert by short code."""

from __future__ import annotations

import re

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from handoff.models import CannedResponse, utcnow

from .errors import Conflict, Invalid, NotFound, translatable

SHORT_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _clean(
    short_code: str, content: str, language: str | None, languages: tuple[str, ...]
) -> tuple[str, str, str | None]:
    short_code = (short_code or "").strip().lower()
    content = (content or "").strip()
    language = (language or "").strip() or None
    if not SHORT_CODE_RE.match(short_code):
        raise Invalid(translatable("short code: lower-case letters, digits, - and _, at most 64"))
    if not content or len(content) > 4000:
        raise Invalid(translatable("content is required (at most 4000 characters)"))
    if language is not None and language not in languages:
        raise Invalid(translatable("language must be empty or one of %(languages)s"), languages=", ".join(languages))
    return short_code, content, language


def list_canned(session: Session, language: str | None = None) -> list[CannedResponse]:
    query = select(CannedResponse).order_by(CannedResponse.short_code)
    if language:
        query = query.where(or_(CannedResponse.language == language, CannedResponse.language.is_(None)))
    return list(session.scalars(query))


def save_canned(
    session: Session,
    short_code: str,
    content: str,
    language: str | None,
    languages: tuple[str, ...],
    canned_id: int | None = None,
) -> CannedResponse:
    short_code, content, language = _clean(short_code, content, language, languages)
    clash = session.scalar(select(CannedResponse).where(CannedResponse.short_code == short_code))
    if clash is not None and clash.id != canned_id:
        raise Conflict(translatable("the short code %(short_code)s is taken"), short_code=repr(short_code))
    if canned_id is None:
        canned = CannedResponse(short_code=short_code, content=content, language=language)
        session.add(canned)
    else:
        canned = session.get(CannedResponse, canned_id)
        if canned is None:
            raise NotFound(translatable("no such canned response"))
        canned.short_code, canned.content, canned.language = short_code, content, language
        canned.updated_at = utcnow()
    session.commit()
    return canned


def delete_canned(session: Session, canned_id: int) -> None:
    session.execute(delete(CannedResponse).where(CannedResponse.id == canned_id))
    session.commit()
