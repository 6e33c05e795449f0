"""Contacts: the customer behind a sender id on a channel, created on first sight."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import Contact


def upsert_contact(
    session: Session,
    channel: str,
    sender_id: str,
    now: datetime,
    language: str | None = None,
    name: str | None = None,
) -> Contact:
    """The contact for (channel, sender_id), updated with what the bot knows now."""
    contact = session.scalar(select(Contact).where(Contact.channel == channel, Contact.sender_id == sender_id))
    if contact is None:
        contact = Contact(channel=channel, sender_id=sender_id, created_at=now)
        session.add(contact)
    if language:
        contact.language = language
    if name:
        contact.name = name
    contact.last_seen_at = now
    session.flush()
    return contact
