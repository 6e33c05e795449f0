"""Helpers shared by the handoff tests: request bodies, logging in, and a stand-in for Rasa's HTTP API."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

from handoff.models import utcnow

API_TOKEN = "test-api-token"
PASSWORD = "correct-horse-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def escalation_body(key: str, **overrides) -> dict:
    now = time.time()
    body = {
        "idempotency_key": key,
        "sender_id": overrides.pop("sender_id", f"sender-{key}"),
        "channel": "socketio",
        "language": "en",
        "reason": "low_confidence",
        "question": "My router blinks red, what now?",
        "transcript": [
            {"role": "user", "text": "My router blinks red, what now?", "timestamp": now - 30, "kb": None},
            {
                "role": "bot",
                "text": "Did you mean one of these?",
                "timestamp": now - 29,
                "kb": {
                    "band": "clarify",
                    "candidates": [
                        {"entry_id": "router-leds", "question": "What do the router lights mean?", "confidence": 0.41},
                        {"entry_id": "line-fault", "question": "My internet is down", "confidence": 0.37},
                    ],
                },
            },
            {"role": "user", "text": "none of these", "timestamp": now - 20, "kb": None},
        ],
        "customer": {"name": "Erika Mustermann"},
    }
    body.update(overrides)
    return body


def login(client, email: str, password: str = PASSWORD):
    page = client.get("/agent/login")
    assert page.status_code == 200
    with client.session_transaction() as sess:
        token = sess["csrf"]
    response = client.post("/agent/login", data={"email": email, "password": password, "csrf_token": token})
    return response


def csrf(client) -> str:
    with client.session_transaction() as sess:
        return sess["csrf"]


class FakeRasa:
    """Records POST /conversations/<id>/trigger_intent calls; can be down (not listening) or failing."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.calls: list[dict] = []
        self.fail_with: int | None = None
        self._server: ThreadingHTTPServer | None = None
        self._changed = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeRasa":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                parsed = urlparse(self.path)
                parts = parsed.path.strip("/").split("/")
                if fake.fail_with:
                    self.send_response(fake.fail_with)
                    self.end_headers()
                    return
                if len(parts) != 3 or parts[0] != "conversations" or parts[2] != "trigger_intent":
                    self.send_response(404)
                    self.end_headers()
                    return
                with fake._changed:
                    fake.calls.append({"sender_id": unquote(parts[1]), "query": parse_qs(parsed.query), **body})
                    fake._changed.notify_all()
                payload = json.dumps({"tracker": {"sender_id": unquote(parts[1])}, "messages": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, predicate, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.calls):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"Rasa stand-in did not get the expected calls; got {self.calls}")
                self._changed.wait(remaining)
            return list(self.calls)


def minutes_ago(minutes: float):
    return utcnow() - timedelta(minutes=minutes)
