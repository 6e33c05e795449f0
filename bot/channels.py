"""The website chat widget's socket.io channel for Rasa (replaces Rasa's built-in `socketio`).

Why not the built-in one: with python-socketio 5.x (what Rasa 3.6.21 installs) its
`session_request` handler calls the coroutine `sio.enter_room` without awaiting it, so with
`session_persistence: true` the browser never joins its session's room and no reply arrives.
This channel awaits it, keeps each socket bound to the session it asked for, hands the widget the
response name and agent name as message metadata (so the page can show that a person has the
conversation), can fan messages out over Redis when several Rasa servers share the conversations
(`SOCKETIO_MESSAGE_QUEUE=redis://…`), and its output channel serves Rasa's HTTP API
(`trigger_intent?output_channel=latest`), which is how agents' replies reach the widget.

credentials.yml: `bot.channels.SocketIOInput:` with the built-in channel's options
(`user_message_evt`, `bot_message_evt`, `session_persistence`, `metadata_key`, `socketio_path`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as _RasaRestInput
from rasa.core.channels.socketio import SocketBlueprint
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from bot import resilience, sessions
from bot.inbound import RejectedMessage, clean_text, customer_metadata, rest_message
from bot.widget_markdown import for_widget
from core.env import Env

logger = logging.getLogger(__name__)

# Message fields the widget may use; everything else stays server-side. `ts` (the bot event's time in the
# tracker) lets a reopened widget ask for what it missed; `message_id` (an agent's reply) lets it confirm
# it showed it; the queue place and wait (or why nobody can take it now) feed the hint under the header.
_METADATA_FIELDS = {
    "utter_action": "response",
    "agent_name": "agent_name",
    "timestamp": "ts",
    "message_id": "message_id",
    "position": "queue_position",
    "wait_minutes": "wait_minutes",
    "reason_not_accepting": "reason_not_accepting",
}
MAX_CATCH_UP = 50  # bot messages replayed to a reopened widget, newest last
MAX_RECEIPTS = 100


def message_metadata(fields: Dict[str, Any]) -> Dict[str, Any]:
    """What the page learns about a message besides its content (response name, agent, time, queue place)."""
    return {name: str(fields[key]) for key, name in _METADATA_FIELDS.items() if fields.get(key)}


def missed_messages(events: Iterable[Any], since: float, limit: int = MAX_CATCH_UP) -> List[Dict[str, Any]]:
    """The bot messages of a tracker newer than ``since`` (the widget's newest), as the output channel sends them.

    Agents' replies to a closed tab are in the tracker but reached no browser (socket.io keeps nothing for an
    empty room): a reopened widget gets them from here, on whichever Rasa server it lands.
    """
    missed = [
        event.message()
        for event in events
        if isinstance(event, BotUttered) and event.timestamp and event.timestamp > since
    ]
    return missed[-limit:]


def receipt_ids(data: Any) -> List[int]:
    """Message ids the widget says it showed (untrusted: whole positive numbers only, at most MAX_RECEIPTS)."""
    raw = data.get("message_ids") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return []
    ids = []
    for value in raw[:MAX_RECEIPTS]:
        if isinstance(value, str) and value.isdigit() and len(value) < 10:
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31:
            ids.append(value)
    return sorted(set(ids))


async def report_seen(sender_id: Text, message_ids: List[int]) -> None:
    """Tell the handoff service the widget showed these agent replies (the console then says "seen")."""
    env = Env()
    url = env.text("HANDOFF_URL", "http://localhost:8000").rstrip("/") + "/api/receipts"
    token = env.text("HANDOFF_API_TOKEN", "dev-handoff-token")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            async with http.post(
                url,
                json={"sender_id": sender_id, "message_ids": message_ids},
                headers={"Authorization": f"Bearer {token}"},
            ) as answer:
                if answer.status >= 300:
                    logger.warning("handoff service refused read receipts: HTTP %s", answer.status)
    except (aiohttp.ClientError, asyncio.TimeoutError) as problem:
        # A receipt is a courtesy to the agent; the reply itself has reached the customer.
        logger.warning("read receipts not delivered to the handoff service: %s", problem.__class__.__name__)


def safe_text(text: Optional[str]) -> str:
    """Bot and agent text for the widget, which renders Markdown: line breaks kept as paragraphs
    (bot/widget_markdown.py), then only http(s), mailto and tel links (bot/links.py)."""
    return for_widget(text)


class SocketIOOutput(OutputChannel):
    """Messages to one widget session (a socket.io room named after the session id)."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def __init__(self, sio: AsyncServer, bot_message_evt: Text) -> None:
        self.sio = sio
        self.bot_message_evt = bot_message_evt

    async def _emit(self, room: Text, message: Dict[str, Any], fields: Dict[str, Any]) -> None:
        metadata = message_metadata(fields)
        if metadata:
            message = {**message, "metadata": metadata}
        await self.sio.emit(self.bot_message_evt, message, room=room)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        # One message, one bubble: its paragraphs render inside it, and the widget can show its start.
        await self._emit(recipient_id, {"text": safe_text(text)}, kwargs)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Optional[Text], buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        replies = [
            {"content_type": "text", "title": b.get("title", ""), "payload": b.get("payload", "")}
            if not b.get("url")
            else {"type": "web_url", "title": b.get("title", ""), "url": b["url"]}
            for b in buttons
        ]
        await self._emit(recipient_id, {"text": safe_text(text), "quick_replies": replies}, kwargs)

    async def send_quick_replies(
        self, recipient_id: Text, text: Optional[Text], quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._emit(recipient_id, {"attachment": {"type": "image", "payload": {"src": image}}}, kwargs)

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:  # type: ignore[override]
        await self._emit(recipient_id, {"attachment": attachment}, kwargs)

    async def send_elements(self, recipient_id: Text, elements: Iterable[Dict[Text, Any]], **kwargs: Any) -> None:
        carousel = {
            "attachment": {"type": "template", "payload": {"template_type": "generic", "elements": list(elements)}}
        }
        await self._emit(recipient_id, carousel, kwargs)

    async def send_custom_json(self, recipient_id: Text, json_message: Any, **kwargs: Any) -> None:
        # Sent as it is, as the bot event's data (the built-in passes it as emit()'s keyword arguments).
        await self.sio.emit(self.bot_message_evt, json_message, room=recipient_id)


async def health(_: Request) -> HTTPResponse:
    return response.json({"status": "ok"})


class SocketIOInput(InputChannel):
    """socket.io endpoint for rasa-webchat; sessions survive page reloads (`session_persistence`)."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            session_persistence=bool(credentials.get("session_persistence", True)),
            metadata_key=credentials.get("metadata_key", "customData"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            message_queue=Env().text("SOCKETIO_MESSAGE_QUEUE"),
        )

    def __init__(
        self,
        user_message_evt: Text = "user_uttered",
        bot_message_evt: Text = "bot_uttered",
        session_persistence: bool = True,
        metadata_key: Text = "customData",
        socketio_path: Text = "/socket.io",
        message_queue: Optional[Text] = None,
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.session_persistence = session_persistence
        self.metadata_key = metadata_key
        self.socketio_path = socketio_path
        self.message_queue = message_queue
        self.sio: Optional[AsyncServer] = None
        self._on_new_message: Optional[Callable[[UserMessage], Awaitable[Any]]] = None  # set by blueprint()
        self.app: Any = None  # the Sanic app (its ctx.agent holds the tracker store), known once a socket connects

    def get_output_channel(self) -> Optional[OutputChannel]:
        return SocketIOOutput(self.sio, self.bot_message_evt) if self.sio is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        self._on_new_message = resilience.guard(on_new_message)
        manager = AsyncRedisManager(self.message_queue) if self.message_queue else None
        # CORS is left to Rasa's --cors (Sanic-CORS); engine.io adding its own headers would double them.
        self.sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], client_manager=manager)
        webhook = SocketBlueprint(self.sio, self.socketio_path, "socketio_webhook", __name__)
        webhook.route("/", methods=["GET"])(health)
        for event, handler in (
            ("connect", self._connect),
            ("catch_up", self._catch_up),
            ("seen", self._seen),
            ("session_request", self._session_request),
            (self.user_message_evt, self._handle_message),
        ):
            self.sio.on(event, handler)
        return webhook

    async def _connect(self, sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
        request = environ.get("sanic.request")
        if request is not None:
            self.app = request.app  # for the tracker store (catch_up)
        return True

    async def _catch_up(self, sid: Text, data: Optional[Dict] = None) -> None:
        """A (re)connected widget names its newest bot message's time; it gets what it missed since.

        Once per connection: a reconnect is a new connection, and a page cannot make the server read the
        tracker over and over.
        """
        sio = self.sio
        session = await sio.get_session(sid)
        sender_id = session.get("sender_id")
        if session.get("caught_up"):
            return
        await sio.save_session(sid, {**session, "caught_up": True})
        since = data.get("since") if isinstance(data, dict) else None
        if isinstance(since, str):
            try:
                since = float(since)
            except ValueError:
                since = None
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        if not sender_id or not isinstance(since, (int, float)) or isinstance(since, bool) or agent is None:
            return
        tracker = await agent.tracker_store.retrieve_full_tracker(sender_id)
        missed = missed_messages(tracker.events if tracker else [], float(since))
        if missed:
            logger.info("catching a reopened widget up on %d message(s)", len(missed))
        output = SocketIOOutput(sio, self.bot_message_evt)
        for message in missed:
            await output.send_response(sid, message)  # this socket only: the session's other tabs have them

    async def _seen(self, sid: Text, data: Optional[Dict] = None) -> None:
        session = await self.sio.get_session(sid)
        reported = session.get("reported") or []
        # Each reply is confirmed once per connection, and a connection confirms a bounded number.
        ids = [i for i in receipt_ids(data) if i not in reported][: MAX_RECEIPTS * 5 - len(reported)]
        if session.get("sender_id") and ids:
            await self.sio.save_session(sid, {**session, "reported": reported + ids})
            asyncio.get_running_loop().create_task(report_seen(session["sender_id"], ids))

    async def _session_request(self, sid: Text, data: Optional[Dict] = None) -> None:
        requested = (data or {}).get("session_id") if isinstance(data, dict) else None
        # Only an id this server issued (signed, bot/sessions.py) is resumed; anything else starts afresh.
        session_id = sessions.session_for(requested)
        sender_id = sessions.sender_for(session_id)
        if self.session_persistence:
            await self.sio.enter_room(sid, sender_id)  # replies to the conversation reach every tab of it
        await self.sio.save_session(sid, {"session_id": session_id, "sender_id": sender_id})
        await self.sio.emit("session_confirm", session_id, room=sid)

    async def _handle_message(self, sid: Text, data: Dict) -> None:
        if not isinstance(data, dict):
            return
        sender_id = sid
        if self.session_persistence:
            # The session this socket asked for, not whatever a message claims.
            sender_id = (await self.sio.get_session(sid)).get("sender_id")
            if not sender_id:
                logger.warning("socket.io message before session_request from %s ignored", sid)
                return
        metadata = data.get(self.metadata_key) or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = {}
        text, original_length = clean_text(str(data.get("message") or ""))
        metadata = customer_metadata(metadata if isinstance(metadata, dict) else {}, original_length)
        message = UserMessage(
            text,
            SocketIOOutput(self.sio, self.bot_message_evt),
            sender_id,
            input_channel=self.name(),
            metadata=metadata,
        )
        await self._on_new_message(message)


class RestInput(_RasaRestInput):
    """Rasa's REST channel (`/webhooks/rest/webhook`), with the same failure handling as the others:
    a failing tracker or lock store is retried, then the customer gets an honest message.

    Bad requests get a JSON 4xx before anything reaches the tracker (bot/inbound.py): the built-in
    answers a JSON array with a 500 and a missing sender by writing to the conversation "default".
    """

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def _extract_message(self, req: Request) -> Optional[Text]:
        return clean_text(req.json.get("message") or "")[0]

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()  # a REST client cannot pass itself off as Messenger or the widget

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = (request.json or {}).get("metadata")  # an object (or absent): the middleware refused the rest
        return customer_metadata(metadata if isinstance(metadata, dict) else {})

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(resilience.guard(on_new_message))

        @webhook.middleware("request")
        async def refuse_bad_requests(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST":
                return None
            try:
                rest_message(request.body or b"")
            except RejectedMessage as problem:
                logger.info("REST webhook request refused (%s): %s", problem.status, problem.message)
                return response.json(problem.body(), status=problem.status)
            return None

        return webhook
