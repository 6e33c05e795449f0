"""A local stand-in for Facebook's Graph API: records Send API requests and checks their shape."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs, urlparse

API_VERSION = "v19.0"
SENDER_ACTIONS = {"mark_seen", "typing_on", "typing_off"}
MESSAGING_TYPES = {"RESPONSE", "UPDATE", "MESSAGE_TAG"}


@dataclass
class SendRequest:
    """One accepted POST /me/messages."""

    body: Dict[str, Any]
    params: Dict[str, str]
    at: float = field(default_factory=time.monotonic)

    @property
    def recipient(self) -> str:
        return str(self.body["recipient"]["id"])

    @property
    def message(self) -> Optional[Dict[str, Any]]:
        return self.body.get("message")

    @property
    def action(self) -> Optional[str]:
        return self.body.get("sender_action")


def shape_problems(body: Any) -> List[str]:
    """What the real Send API would refuse in this request body (the limits the bot must respect)."""
    if not isinstance(body, dict):
        return ["body is not a JSON object"]
    problems = []
    if not str((body.get("recipient") or {}).get("id") or ""):
        problems.append("recipient.id missing")
    if "sender_action" in body:
        if body["sender_action"] not in SENDER_ACTIONS:
            problems.append(f"unknown sender_action {body['sender_action']!r}")
        if "message" in body:
            problems.append("sender_action and message in one request")
        return problems
    if body.get("messaging_type") not in MESSAGING_TYPES:
        problems.append(f"messaging_type {body.get('messaging_type')!r}")
    message = body.get("message")
    if not isinstance(message, dict) or not (message.get("text") or message.get("attachment")):
        return problems + ["message needs text or attachment"]
    text = message.get("text")
    if text is not None and (not isinstance(text, str) or not text.strip() or len(text) > 2000):
        problems.append(f"text must be 1-2000 characters, got {len(text or '')}")
    replies = message.get("quick_replies")
    if replies is not None:
        if not isinstance(replies, list) or not 1 <= len(replies) <= 13:
            problems.append("quick_replies must be a list of 1-13")
        for reply in replies or []:
            if reply.get("content_type") != "text":
                problems.append(f"quick reply content_type {reply.get('content_type')!r}")
            if not reply.get("title") or len(reply["title"]) > 20:
                problems.append(f"quick reply title {reply.get('title')!r} not 1-20 characters")
            if not reply.get("payload") or len(str(reply["payload"])) > 1000:
                problems.append("quick reply payload not 1-1000 characters")
    return problems


class FakeGraph:
    """Serves POST /<version>/me/messages on a free local port in a background thread."""

    def __init__(self, access_token: str, app_secret: Optional[str] = None) -> None:
        self.access_token = access_token
        self.app_secret = app_secret
        self.accepted: List[SendRequest] = []
        self.rejected: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        """The Graph API base URL (what FB_GRAPH_URL is set to)."""
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/{API_VERSION}"

    def start(self) -> "FakeGraph":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                fake._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(request.path)
        params = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        problems = []
        if parsed.path != f"/{API_VERSION}/me/messages":
            problems.append(f"unexpected path {parsed.path}")
        if params.get("access_token") != self.access_token:
            problems.append("wrong or missing access_token")
        if self.app_secret is not None:
            proof = hmac.new(self.app_secret.encode(), self.access_token.encode(), hashlib.sha256).hexdigest()
            if params.get("appsecret_proof") != proof:
                problems.append("wrong or missing appsecret_proof")
        problems += shape_problems(body)
        with self._lock:
            if problems:
                self.rejected.append({"body": body, "params": params, "problems": problems})
            else:
                self.accepted.append(SendRequest(body, params))
        if problems:
            reply, status = {"error": {"message": "; ".join(problems), "type": "OAuthException", "code": 100}}, 400
        else:
            reply, status = {"recipient_id": body["recipient"]["id"], "message_id": f"m_{len(self.accepted)}"}, 200
        data = json.dumps(reply).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def requests_for(self, recipient: str) -> List[SendRequest]:
        with self._lock:
            return [r for r in self.accepted if r.recipient == recipient]

    def messages_for(self, recipient: str) -> List[Dict[str, Any]]:
        return [r.message for r in self.requests_for(recipient) if r.message is not None]

    def texts_for(self, recipient: str) -> List[str]:
        return [m.get("text", "") for m in self.messages_for(recipient)]

    def rejected_for(self, recipient: str) -> List[Dict[str, Any]]:
        with self._lock:
            return [r for r in self.rejected if str(((r["body"] or {}).get("recipient") or {}).get("id")) == recipient]

    def wait_for(
        self, recipient: str, done: Callable[[List[SendRequest]], bool], timeout: float = 60.0
    ) -> List[SendRequest]:
        """The recipient's requests once `done(requests)` holds; AssertionError with what came otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            requests = self.requests_for(recipient)
            if done(requests):
                return requests
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Graph API did not get the expected requests for {recipient} within {timeout:.0f} s; got "
                    f"{[r.body for r in requests]}; rejected {self.rejected_for(recipient)}"
                )
            time.sleep(0.1)

    def __enter__(self) -> "FakeGraph":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
