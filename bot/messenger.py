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
import hashlib
import hmac
import json
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional, Text, Tuple

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import messenger_format as fmt

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v19.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
SEEN_MESSAGE_IDS = 2000  # Messenger redelivers webhooks it thinks failed; answer each message once
ATTACHMENT_REPLY = {
    "de": "Bilder, Sprachnachrichten und Dateien kann ich leider nicht lesen. Bitte beschreiben Sie Ihr Anliegen in ein paar Worten.",
    "en": "I'm sorry, I can't read pictures, voice messages or files. Please describe your question in a few words.",
}


@dataclass(frozen=True)
class MessengerSettings:
    """The page's secrets and the Graph API address, read from the environment."""

    verify_token: str = ""
    app_secret: str = ""
    page_access_token: str = ""
    graph_url: str = DEFAULT_GRAPH_URL
    timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "MessengerSettings":
        env = os.environ if environ is None else environ
        return cls(
            verify_token=env.get("FB_VERIFY_TOKEN", "").strip(),
            app_secret=env.get("FB_APP_SECRET", "").strip(),
            page_access_token=env.get("FB_PAGE_ACCESS_TOKEN", "").strip(),
            graph_url=(env.get("FB_GRAPH_URL", "").strip() or DEFAULT_GRAPH_URL).rstrip("/"),
        )

    def missing(self) -> List[str]:
        names = {"FB_VERIFY_TOKEN": self.verify_token, "FB_APP_SECRET": self.app_secret, "FB_PAGE_ACCESS_TOKEN": self.page_access_token}
        return [name for name, value in names.items() if not value]


def signature_valid(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC of the raw body>`, compared in constant time."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len("sha256="):].strip().lower().encode())


class GraphClient:
    """Messenger's Send API over aiohttp; the session is created on first use inside Rasa's loop."""

    def __init__(self, settings: MessengerSettings) -> None:
        self.settings = settings
        self._session: Optional[aiohttp.ClientSession] = None
        proof = hmac.new(settings.app_secret.encode(), settings.page_access_token.encode(), hashlib.sha256)
        self._params = {"access_token": settings.page_access_token, "appsecret_proof": proof.hexdigest()}

    async def send_message(self, recipient_id: Text, message: Dict[str, Any]) -> bool:
        body = {"recipient": {"id": recipient_id}, "messaging_type": "RESPONSE", "message": message}
        return await self._post(body)

    async def sender_action(self, recipient_id: Text, action: Text) -> bool:
        """`mark_seen`, `typing_on` or `typing_off`."""
        return await self._post({"recipient": {"id": recipient_id}, "sender_action": action})

    async def _post(self, body: Dict[str, Any]) -> bool:
        url = f"{self.settings.graph_url}/me/messages"
        for attempt in (1, 2):
            try:
                session = await self._client()
                async with session.post(url, params=self._params, json=body) as reply:
                    if reply.status < 300:
                        return True
                    detail = (await reply.text())[:500]
                    if reply.status < 500:  # the request itself is wrong: a retry cannot help
                        logger.error("Messenger Send API refused a request (HTTP %s): %s", reply.status, detail)
                        return False
                    logger.warning("Messenger Send API failed (HTTP %s, attempt %d): %s", reply.status, attempt, detail)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                logger.warning("Messenger Send API unreachable (attempt %d): %s", attempt, exc.__class__.__name__)
            if attempt == 1:
                await asyncio.sleep(0.5)
        return False

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds))
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class MessengerOutput(OutputChannel):
    """Bot and agent messages to one Messenger user, shaped to Messenger's limits."""

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    def __init__(self, client: GraphClient) -> None:
        self.client = client

    async def _send_all(self, recipient_id: Text, messages: Iterable[Dict[str, Any]]) -> None:
        for message in messages:  # in order: Messenger shows them in the order it receives them
            await self.client.send_message(recipient_id, message)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send_all(recipient_id, ({"text": chunk} for chunk in fmt.split_text(text)))

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Optional[Text], buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._send_all(recipient_id, fmt.text_with_buttons(text, buttons))

    async def send_quick_replies(
        self, recipient_id: Text, text: Optional[Text], quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._send_all(recipient_id, fmt.text_with_buttons(text, quick_replies))

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self.client.send_message(recipient_id, {"attachment": {"type": "image", "payload": {"url": image, "is_reusable": True}}})

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if isinstance(attachment, dict) and attachment.get("type"):
            await self.client.send_message(recipient_id, {"attachment": attachment})
        else:
            await self.send_text_message(recipient_id, str(attachment))

    async def send_elements(self, recipient_id: Text, elements: Iterable[Dict[Text, Any]], **kwargs: Any) -> None:
        template = fmt.generic_template(list(elements))
        if template is not None:
            await self.client.send_message(recipient_id, template)

    async def send_custom_json(self, recipient_id: Text, json_message: Any, **kwargs: Any) -> None:
        # Custom JSON meant for the website widget (e.g. handoff hints) has no place in Messenger.
        if fmt.is_send_api_message(json_message):
            await self.client.send_message(recipient_id, json_message)


@dataclass(frozen=True)
class Inbound:
    """One customer event from a webhook that the bot should act on."""

    sender_id: str
    text: Optional[str]  # None: attachments without text
    message_id: Optional[str]
    metadata: Dict[str, Any]
    attachments: Tuple[str, ...] = ()  # "image: https://…" for each attachment


def inbound_events(payload: Dict[str, Any]) -> List[Inbound]:
    """Customer messages, quick replies and postbacks; echoes, deliveries, reads and the rest are dropped.

    Only `entry[].messaging` is read: events under `standby` belong to another app that has the
    thread (Messenger's handover protocol), and the bot must stay quiet then.
    """
    events: List[Inbound] = []
    for entry in payload.get("entry") or []:
        for event in entry.get("messaging") or []:
            sender = str((event.get("sender") or {}).get("id") or "")
            if not sender:
                continue
            metadata = {"page_id": (event.get("recipient") or {}).get("id"), "timestamp": event.get("timestamp")}
            message = event.get("message")
            postback = event.get("postback")
            if isinstance(message, dict):
                if message.get("is_echo"):
                    continue
                quick_reply = (message.get("quick_reply") or {}).get("payload")
                text = quick_reply or message.get("text")
                attachments = tuple(
                    f"{a.get('type') or 'file'}: {(a.get('payload') or {}).get('url') or ''}".rstrip(": ")
                    for a in message.get("attachments") or [] if isinstance(a, dict)
                )
                if not text and not attachments:
                    continue
                events.append(Inbound(sender, text or None, message.get("mid"), metadata, attachments))
            elif isinstance(postback, dict):
                text = postback.get("payload") or postback.get("title")
                if text:
                    events.append(Inbound(sender, str(text), postback.get("mid"), metadata))
    return events


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
            if not signature_valid(self.settings.app_secret, request.body or b"", request.headers.get(SIGNATURE_HEADER)):
                logger.warning("Messenger webhook POST rejected: missing or wrong %s", SIGNATURE_HEADER)
                return response.text("invalid signature", status=403)
            try:
                payload = json.loads(request.body)
            except (ValueError, UnicodeDecodeError):
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
        except Exception:  # noqa: BLE001 - one bad event must not stop the sender's later ones
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
