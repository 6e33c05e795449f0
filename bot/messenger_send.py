"""Messenger's Send API: the page's settings, an aiohttp Graph client and Rasa's output channel."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Text

import aiohttp
from rasa.core.channels.channel import OutputChannel

from bot import messenger_format as fmt
from core.env import Env

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v19.0"


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
        env = Env(environ)
        return cls(
            verify_token=env.raw("FB_VERIFY_TOKEN"),
            app_secret=env.raw("FB_APP_SECRET"),
            page_access_token=env.raw("FB_PAGE_ACCESS_TOKEN"),
            graph_url=env.text("FB_GRAPH_URL", DEFAULT_GRAPH_URL).rstrip("/"),
        )

    def missing(self) -> List[str]:
        names = {
            "FB_VERIFY_TOKEN": self.verify_token,
            "FB_APP_SECRET": self.app_secret,
            "FB_PAGE_ACCESS_TOKEN": self.page_access_token,
        }
        return [name for name, value in names.items() if not value]


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
        await self.client.send_message(
            recipient_id, {"attachment": {"type": "image", "payload": {"url": image, "is_reusable": True}}}
        )

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
