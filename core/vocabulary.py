"""The words two processes must agree on: internal intents, handoff reasons, statuses, languages, limits.

Imported by the Rasa side (Python 3.10), the action server and the handoff service (3.11); it imports
nothing, so any of them can load it. The names follow the glossary in docs/architecture.md.
"""

from __future__ import annotations

# The languages the bot, the knowledge base and the console serve, and the one to fall back to.
LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "en"

# The longest customer or agent message: the handoff service stores nothing longer (its API and console
# refuse it), so the channels cut or refuse longer ones and a message can always be relayed and kept.
MAX_TEXT_CHARS = 4000

# Internal intents: only the handoff service triggers them, through Rasa's token-protected HTTP API
# (handoff/outbox.py). A customer who types one sends text (bot/inbound.py); the handoff policy lets the
# rules handle them while a person has the conversation (bot/policies.py).
AGENT_MESSAGE = "agent_message"  # an agent's reply: entities agent_text, agent_name, message_id
AGENT_JOINED = "agent_joined"  # an agent claimed the escalation (or it was transferred to them)
HANDOFF_ENDED = "handoff_ended"  # resolved or handed back; entity handoff_outcome
CALLBACK_UPDATE = "callback_update"  # a callback was done, not answered or cancelled by an agent
QUEUE_UPDATE = "queue_update"  # the customer's place in the queue changed
INTERNAL_INTENTS = frozenset({AGENT_MESSAGE, AGENT_JOINED, HANDOFF_ENDED, CALLBACK_UPDATE, QUEUE_UPDATE})

# handoff_outcome of HANDOFF_ENDED: "resolved", "returned", or this one when nobody had talked with the
# customer yet (they were taken out of the queue: no satisfaction question).
RETURNED_FROM_QUEUE = "returned_from_queue"

# Why a conversation went to people (the escalation's reason).
HANDOFF_REASONS = ("requested", "low_confidence", "repeated_failure", "negative_feedback", "frustration")
# Why the customer's side ended an escalation before an agent did (POST /api/escalations/<id>/cancel).
CUSTOMER_LEFT = "customer_left"
SWITCHED_TO_CALLBACK = "switched_to_callback"
CANCEL_REASONS = (CUSTOMER_LEFT, SWITCHED_TO_CALLBACK)

# An escalation's status. Chatwoot's names, but not all of Chatwoot's meanings: "pending" here is
# *waiting for a person* (in the queue), where in Chatwoot it means "still with the bot".
WAITING = "pending"
STATUSES = (WAITING, "open", "resolved", "cancelled", "returned")
ACTIVE_STATUSES = (WAITING, "open")
