"""SQLAlchemy models of the handoff service, in Chatwoot's vocabulary plus callbacks.

An escalation (the bot API's word) is a `Conversation` here; its status `pending` means waiting for a person,
not Chatwoot's "with the bot" (glossary: docs/architecture.md; the words: core/vocabulary.py).
"""
from .audit import AUDIT_ACTIONS, AuditEvent
from .base import Base, UTCDateTime, utcnow
from .callbacks import CALLBACK_STATUSES, OPEN_CALLBACK_STATUSES, CallbackEvent, CallbackRequest
from .conversations import ACTIVE_STATUSES, REASONS, STATUSES, Conversation, Message, SatisfactionRating
from .faq import REVISION_OPS, FaqRevision
from .insights import EVENT_TYPES, FAQ_ACTIONS, BotEvent, FaqChange
from .operations import (
    BusinessHours,
    CannedResponse,
    ConsoleEvent,
    Feedback,
    Holiday,
    IdempotencyRecord,
    OutboxItem,
    ServiceSettings,
)
from .people import PRESENCES, ROLES, Agent, Contact, LoginAttempt

__all__ = [
    "ACTIVE_STATUSES",
    "AUDIT_ACTIONS",
    "AuditEvent",
    "BotEvent",
    "EVENT_TYPES",
    "FAQ_ACTIONS",
    "FaqChange",
    "FaqRevision",
    "REVISION_OPS",
    "CALLBACK_STATUSES",
    "OPEN_CALLBACK_STATUSES",
    "PRESENCES",
    "REASONS",
    "ROLES",
    "STATUSES",
    "Agent",
    "Base",
    "BusinessHours",
    "CallbackEvent",
    "CallbackRequest",
    "CannedResponse",
    "ConsoleEvent",
    "Contact",
    "Conversation",
    "Feedback",
    "Holiday",
    "IdempotencyRecord",
    "LoginAttempt",
    "Message",
    "OutboxItem",
    "SatisfactionRating",
    "ServiceSettings",
    "UTCDateTime",
    "utcnow",
]
