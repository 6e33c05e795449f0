"""The round-robin proxy in front of the Rasa servers (scripts/proxy.py), against two small HTTP servers."""
from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from scripts.proxy import serve
from scripts.stack import free_port


class Upstream:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                outer.seen.append((self.path, body))
                payload = json.dumps({"server": outer.name, "echo": body}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstreams():
    servers = [Upstream("a"), Upstream("b")]
    yield servers
    for server in servers:
        try:
            server.close()
        except OSError:
            pass


def start_proxy(ports: list[int]) -> str:
    port = free_port()
    ready = threading.Event()

    def main() -> None:
        async def go() -> None:
            event = asyncio.Event()
            task = asyncio.ensure_future(serve(("127.0.0.1", port), [("127.0.0.1", p) for p in ports], event))
            await event.wait()
            ready.set()
            await task

        asyncio.run(go())

    threading.Thread(target=main, daemon=True).start()
    assert ready.wait(10)
    return f"http://127.0.0.1:{port}"


def test_requests_alternate_between_servers_and_bodies_arrive_whole(upstreams):
    proxy = start_proxy([u.port for u in upstreams])
    with requests.Session() as session:  # keep-alive from the client does not pin a server
        answers = [session.post(f"{proxy}/webhooks/rest/webhook", data=f"message {i} " + "x" * 100_000).json()
                   for i in range(6)]
    assert [a["server"] for a in answers] == ["a", "b", "a", "b", "a", "b"]
    assert all(a["echo"].startswith(f"message {i} ") and len(a["echo"]) == len(f"message {i} ") + 100_000
               for i, a in enumerate(answers))


def test_a_dead_server_is_skipped_and_none_alive_is_a_clear_503(upstreams):
    proxy = start_proxy([u.port for u in upstreams] + [free_port()])  # the third never existed
    served = [requests.get(f"{proxy}/status", timeout=10).json()["server"] for _ in range(6)]
    assert sorted(set(served)) == ["a", "b"] and len(served) == 6

    for upstream in upstreams:
        upstream.close()
    response = requests.get(f"{proxy}/status", timeout=10)
    assert response.status_code == 503
    assert "no Rasa server is reachable" in response.json()["message"]


def test_socketio_requests_stick_to_one_server(upstreams):
    proxy = start_proxy([u.port for u in upstreams])
    served = {requests.get(f"{proxy}/socket.io/?EIO=4&transport=polling", timeout=10).json()["server"]
              for _ in range(5)}
    assert len(served) == 1
