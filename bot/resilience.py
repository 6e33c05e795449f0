"""When the action server cannot be reached, the customer hears so (instead of silence).

Rasa 3.6 logs a failed custom action and carries on as if it had returned nothing: the customer's
message is in the tracker, but they get no reply and cannot tell whether anything happened.
`install()` wraps `RemoteAction.run` so that a connection failure or timeout becomes one short,
honest bot message in the conversation's language ("a technical problem, your message is saved,
please try again in a minute"). The customer's message itself stays in the tracker store; the
relay to an agent picks up messages whose relay never completed (actions/handoff.py).

`ActionExecutionRejection` (how forms reject a slot) passes through untouched.

Where the patches are installed: in `guard()` and nowhere else. Every channel of credentials.yml
(bot/channels.py's REST and widget channels, bot/messenger.py) wraps its message handler with `guard`
when Rasa builds its routes, before the first message; importing this module patches nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Sequence

from bot.inbound import customer_text
from bot.throttle import SenderThrottle, configured_limit, throttled_text

logger = logging.getLogger(__name__)

MESSAGES = {
    "de": (
        "Entschuldigung, bei uns gibt es gerade ein technisches Problem. Ihre Nachricht ist gespeichert – "
        "bitte versuchen Sie es in einer Minute noch einmal."
    ),
    "en": ("Sorry, we have a technical problem right now. Your message is saved – please try again in a minute."),
}
RESPONSE_NAME = "technical_problem"
_installed = False


def technical_problem_text(language: Any) -> str:
    return MESSAGES.get(str(language or "").lower()[:2], MESSAGES["en"])


def install() -> None:
    """Patch Rasa's RemoteAction and FailSafeTrackerStore (idempotent); `guard` calls it."""
    global _installed
    if _installed:
        return
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered
    from rasa.shared.exceptions import RasaException

    original = RemoteAction.run

    async def run(self, output_channel, nlg, tracker, domain) -> List[Any]:  # type: ignore[no-untyped-def]
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except (RasaException, asyncio.TimeoutError, OSError) as exc:
            logger.error("custom action %s failed (%s); telling conversation %s", self.name(), exc, tracker.sender_id)
            text = technical_problem_text(tracker.get_slot("language"))
            return [BotUttered(text, {}, {"utter_action": RESPONSE_NAME})]

    RemoteAction.run = run  # type: ignore[method-assign]
    _make_tracker_store_failures_visible()
    _installed = True


def _make_tracker_store_failures_visible() -> None:
    """Rasa's FailSafeTrackerStore answers a failing retrieve with "no tracker" and a failing save
    by keeping the tracker in one server's memory: the customer would silently start over with an
    empty conversation, and with several Rasa servers the history would split. Let the error
    through instead; `guard` retries it and, if the store stays down, tells the customer."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    async def retrieve(self, sender_id):  # type: ignore[no-untyped-def]
        return await self._tracker_store.retrieve(sender_id)

    async def retrieve_full_tracker(self, sender_id):  # type: ignore[no-untyped-def]
        return await self._tracker_store.retrieve_full_tracker(sender_id)

    async def save(self, tracker):  # type: ignore[no-untyped-def]
        await self._tracker_store.save(tracker)

    FailSafeTrackerStore.retrieve = retrieve  # type: ignore[method-assign]
    FailSafeTrackerStore.retrieve_full_tracker = retrieve_full_tracker  # type: ignore[method-assign]
    FailSafeTrackerStore.save = save  # type: ignore[method-assign]


# --------------------------------------------------------------------------- the channels' side

# Errors of the infrastructure under a message (tracker store, lock store): worth a retry when
# nothing has reached the customer yet, and otherwise worth an honest message.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


def _infrastructure_error(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    modules = {cls.__module__.split(".")[0] for cls in type(exc).__mro__}
    return bool(
        names
        & {
            "OperationalError",
            "InterfaceError",
            "LockError",
            "ConnectionError",
            "TimeoutError",
            "DisconnectionError",
            "BusyResponseError",
        }
        or modules & {"redis", "psycopg2", "sqlalchemy"}
    )


def _message_language(message: Any) -> str:
    metadata = getattr(message, "metadata", None) or {}
    for key in ("language", "locale", "lang"):
        value = str(metadata.get(key) or "")[:2].lower()
        if value in MESSAGES:
            return value
    try:
        from bot.language import detect

        return detect(message.text or "")[0] or "en"
    except Exception:  # noqa: BLE001 - a guess is all we need
        return "en"


def guard(on_new_message: Callable[[Any], Awaitable[Any]], delays: Sequence[float] = RETRY_DELAYS):
    """Wrap a channel's `on_new_message`: retry infrastructure failures that happened before any
    reply went out (Redis or PostgreSQL restarting), and tell the customer when it still fails."""
    install()  # the one place the patches are installed: every channel is guarded before its first message

    throttle = SenderThrottle(configured_limit())

    async def handle(message: Any) -> Any:
        allowed, tell = throttle.allow(str(message.sender_id))
        if not allowed:
            logger.warning("throttled a message of %s (over %d per minute)", message.sender_id, throttle.limit)
            if tell:
                await message.output_channel.send_response(
                    message.sender_id, {"text": throttled_text(_message_language(message)), "utter_action": "throttled"}
                )
            return None
        # Customers' "/intent" texts: only their own buttons' payloads (bot/inbound.py); the rest is text.
        message.text = customer_text(message.text) if isinstance(message.text, str) else message.text
        output = message.output_channel
        sent = 0
        original_send = output.send_response

        async def counting_send(recipient_id: str, msg: Dict[str, Any]) -> None:
            nonlocal sent
            sent += 1
            await original_send(recipient_id, msg)

        output.send_response = counting_send  # type: ignore[method-assign]
        try:
            for attempt in range(len(delays) + 1):
                try:
                    return await on_new_message(message)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # retried or answered: decided below
                    retry = attempt < len(delays) and sent == 0 and _infrastructure_error(exc)
                    logger.error(
                        "message of %s failed (%s: %s)%s",
                        message.sender_id,
                        type(exc).__name__,
                        exc,
                        f"; retrying in {delays[attempt]:.1f} s" if retry else "",
                    )
                    if not retry:
                        await original_send(
                            message.sender_id,
                            {
                                "text": technical_problem_text(_message_language(message)),
                                "utter_action": RESPONSE_NAME,
                            },
                        )
                        raise
                    await asyncio.sleep(delays[attempt])
        finally:
            output.send_response = original_send  # type: ignore[method-assign]

    return handle
