"""A small HTTP server standing in for one upstream behind the real nginx (tests/deploy, tests/scripts)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandInServer:
    """Answers every GET and POST with JSON naming itself and what it received: ``server``, ``path``,
    ``echo`` (the body) and ``headers``; keeps (path, body, headers) in ``seen``. A path starting with
    /slow is answered after 3 s, one starting with /die gets the connection closed without an answer."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[tuple[str, str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                outer.seen.append((self.path, body, dict(self.headers)))
                if self.path.startswith("/die"):
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if self.path.startswith("/slow"):
                    time.sleep(3)
                payload = json.dumps(
                    {"server": outer.name, "path": self.path, "echo": body, "headers": dict(self.headers)}
                ).encode()
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
