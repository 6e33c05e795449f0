"""Facebook Messenger channel for Rasa: signed webhooks in, Send API out (secrets from the environment).

Rasa's built-in `facebook` connector checks the SHA-1 `X-Hub-Signature` with `==`, answers bad
signatures with 200, calls the Graph API with blocking `requests` at a fixed URL, drops buttons
beyond three and ignores Messenger's limits. This one verifies `X-Hub-Signature-256` in constant
time (403 otherwise, before anything is parsed), answers at once and handles each sender's events
in order in the background, shows typing indicators, splits long texts, turns buttons into at most
13 quick replies, and talks to a configurable Graph API (`FB_GRAPH_URL`).

credentials.yml:  `bot.messenger.MessengerInput:` (no values: FB_VERIFY_TOKEN, FB_APP_SECRET,
FB_PAGE_ACCESS_TOKEN and FB_GRAPH_URL come from the environment). Webhook: /webhooks/facebook/webhook
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import resilience
from bot.messenger_send import GraphClient, MessengerOutput, MessengerSettings
from bot.messenger_webhook import Inbound, inbound_events, signature_valid

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_WEBHOOK_BYTES = 1024 * 1024  # Facebook batches events, each a few hundred bytes; refused before the HMAC
SEEN_MESSAGE_IDS = 2000  # Messenger redelivers webhooks it thinks failed; answer each message once
ATTACHMENT_REPLY = {
    "de": "Bilder, Sprachnachrichten und Dateien kann ich leider nicht lesen. Bitte beschreiben Sie Ihr Anliegen in ein paar Worten.",
    "en": "I'm sorry, I can't read pictures, voice messages or files. Please describe your question in a few words.",
}


class MessengerInput(InputChannel):
    """The webhook Messenger calls: verification handshake and signed event delivery."""

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        secrets = {"verify", "secret", "page-access-token", "verify_token", "app_secret", "page_access_token"}
        if credentials and secrets & set(credentials):
            raise ValueError(
                "Messenger secrets do not belong in credentials.yml: set FB_VERIFY_TOKEN, FB_APP_SECRET "
                "and FB_PAGE_ACCESS_TOKEN in the environment and leave `bot.messenger.MessengerInput:` empty."
            )
        return cls(MessengerSettings.from_env())

    def __init__(self, settings: Optional[MessengerSettings] = None) -> None:
        self.settings = settings or MessengerSettings.from_env()
        self.client = GraphClient(self.settings)
        self._seen: "OrderedDict[str, None]" = OrderedDict()
        self._latest: Dict[str, asyncio.Future] = {}
        if self.settings.missing():
            logger.warning("Messenger channel disabled until %s are set", ", ".join(self.settings.missing()))

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Used for messages the bot sends on its own (agent replies through Rasa's HTTP API)."""
        return None if self.settings.missing() else MessengerOutput(self.client)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = resilience.guard(on_new_message)
        webhook = Blueprint("messenger_webhook", __name__)

        @webhook.listener("before_server_stop")
        async def close_client(app: Any, loop: Any) -> None:
            await self.client.close()

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if not self.settings.missing() else "not configured"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if (
                self.settings.verify_token
                and request.args.get("hub.mode") == "subscribe"
                and hmac.compare_digest(token.encode(), self.settings.verify_token.encode())
            ):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("Messenger webhook verification failed: wrong hub.verify_token or hub.mode")
            return response.text("verification failed", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.settings.missing():
                return response.text("Messenger channel not configured", status=503)
            if len(request.body or b"") > MAX_WEBHOOK_BYTES:
                return response.text(f"body larger than {MAX_WEBHOOK_BYTES} bytes", status=413)
            if not signature_valid(
                self.settings.app_secret, request.body or b"", request.headers.get(SIGNATURE_HEADER)
            ):
                logger.warning("Messenger webhook POST rejected: missing or wrong %s", SIGNATURE_HEADER)
                return response.text("invalid signature", status=403)
            try:
                payload = json.loads(request.body)
            except (ValueError, RecursionError):  # ValueError covers bad UTF-8
                return response.text("invalid JSON", status=400)
            if not isinstance(payload, dict) or payload.get("object") != "page":
                return response.text("not a page event", status=404)
            agent = getattr(request.app.ctx, "agent", None)
            for event in inbound_events(payload):
                if self._first_time(event.message_id):
                    self._schedule(event, on_new_message, agent)
            # Messenger wants a quick 200; the bot answers through the Send API when it is ready.
            return response.text("EVENT_RECEIVED")

        return webhook

    def _first_time(self, message_id: Optional[str]) -> bool:
        if not message_id:
            return True
        if message_id in self._seen:
            return False
        self._seen[message_id] = None
        while len(self._seen) > SEEN_MESSAGE_IDS:
            self._seen.popitem(last=False)
        return True

    def _schedule(self, event: Inbound, on_new_message: Callable[[UserMessage], Awaitable[Any]], agent: Any) -> None:
        """Handle the event in the background, after the same sender's earlier events."""
        previous = self._latest.get(event.sender_id)
        task = asyncio.ensure_future(self._handle(previous, event, on_new_message, agent))
        self._latest[event.sender_id] = task

        def forget(done: asyncio.Future, sender: str = event.sender_id) -> None:
            if self._latest.get(sender) is done:
                del self._latest[sender]

        task.add_done_callback(forget)

    async def _handle(
        self,
        previous: Optional[asyncio.Future],
        event: Inbound,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        agent: Any,
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        output = MessengerOutput(self.client)
        await self.client.sender_action(event.sender_id, "mark_seen")
        await self.client.sender_action(event.sender_id, "typing_on")
        try:
            text = event.text
            if text is None:
                text = await self._attachment_text(event, output, agent)
            if text is not None:
                await on_new_message(
                    UserMessage(text, output, event.sender_id, input_channel=self.name(), metadata=event.metadata)
                )
        except Exception:  # one bad event must not stop the sender's later ones
            logger.exception("Messenger event from %s could not be handled", event.sender_id)
        finally:
            await self.client.sender_action(event.sender_id, "typing_off")

    async def _attachment_text(self, event: Inbound, output: MessengerOutput, agent: Any) -> Optional[str]:
        """While a person has the conversation, tell them a file arrived; otherwise explain politely."""
        language, with_agent = None, False
        try:
            tracker = await agent.tracker_store.retrieve(event.sender_id) if agent is not None else None
        except Exception:  # noqa: BLE001 - the reply still goes out, in both languages
            tracker = None
        if tracker is not None:
            language = tracker.get_slot("language")
            with_agent = bool(tracker.get_slot("handoff_active"))
        if with_agent:
            return "\n".join(f"📎 {attachment}" for attachment in event.attachments)
        reply = ATTACHMENT_REPLY.get(language or "") or f"{ATTACHMENT_REPLY['de']}\n\n{ATTACHMENT_REPLY['en']}"
        await output.send_text_message(event.sender_id, reply)
        return None
