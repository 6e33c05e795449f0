"""A small round-robin HTTP proxy in front of several Rasa servers (production mode, no Docker).

    python -m scripts.proxy --listen 127.0.0.1:5005 --upstream 127.0.0.1:5006 --upstream 127.0.0.1:5007

Every HTTP request goes to the next live upstream, so consecutive messages of one conversation land
on different Rasa servers: Rasa's lock store (Redis) and tracker store (PostgreSQL) keep them in
order. The proxy asks the upstream to close the connection after its response, so one client
connection never pins a conversation to one server.

Socket.io is different: its session lives in one server's memory, so `/socket.io/` requests stick
to one upstream per client address (and a websocket upgrade is piped through untouched).

An upstream that refuses the connection is skipped and retried after a few seconds, so killing one
Rasa server costs no request that had not reached it yet. If the upstream dies before answering,
the client gets a 502 with a JSON body that says so (the message may or may not have been
processed: the client sees the difference in the conversation's tracker).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import signal
import time
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

logger = logging.getLogger("proxy")

MAX_HEAD_BYTES = 64 * 1024
RETRY_DEAD_AFTER = 3.0  # seconds before a refused upstream is tried again
CONNECT_TIMEOUT = 2.0


@dataclass
class Upstream:
    host: str
    port: int
    dead_until: float = 0.0
    requests: int = 0

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"

    def alive(self, now: float) -> bool:
        return now >= self.dead_until


@dataclass
class Balancer:
    upstreams: List[Upstream]
    _next: int = field(default=0)

    def order(self, sticky_key: Optional[str] = None) -> List[Upstream]:
        """Upstreams to try, best first: round robin, or a stable choice for a sticky key."""
        count = len(self.upstreams)
        if sticky_key is not None:
            start = int(hashlib.sha1(sticky_key.encode()).hexdigest(), 16) % count
        else:
            start = self._next % count
            self._next += 1
        rotated = self.upstreams[start:] + self.upstreams[:start]
        now = time.monotonic()
        return [u for u in rotated if u.alive(now)] + [u for u in rotated if not u.alive(now)]


def parse_address(value: str) -> Tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r}: use host:port")
    return host, int(port)


def _error_response(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"error": reason, "message": message}).encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


def rewrite_head(head: bytes) -> Tuple[bytes, str, bool]:
    """(head with Connection: close unless it is an upgrade, request path, is_upgrade)."""
    lines = head.split(b"\r\n")
    request_line = lines[0].decode("latin-1")
    parts = request_line.split(" ")
    path = parts[1] if len(parts) >= 2 else "/"
    headers = [line for line in lines[1:] if line]
    upgrade = any(line.lower().startswith(b"upgrade:") for line in headers)
    if not upgrade:
        headers = [h for h in headers if not h.lower().startswith((b"connection:", b"keep-alive:"))]
        headers.append(b"Connection: close")
    return b"\r\n".join([lines[0], *headers]) + b"\r\n\r\n", path, upgrade


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
    sent = 0
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            writer.write(chunk)
            sent += len(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            if writer.can_write_eof():
                writer.write_eof()
    return sent


class Proxy:
    def __init__(self, upstreams: Sequence[Tuple[str, int]]):
        self.balancer = Balancer([Upstream(h, p) for h, p in upstreams])

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        peer = client_writer.get_extra_info("peername") or ("?", 0)
        try:
            try:
                head = await asyncio.wait_for(client_reader.readuntil(b"\r\n\r\n"), timeout=30)
            except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
                return
            except asyncio.LimitOverrunError:
                client_writer.write(_error_response(431, "Request Header Fields Too Large", "request head too large"))
                return
            head, path, upgrade = rewrite_head(head)
            sticky = peer[0] if path.startswith("/socket.io") else None
            upstream_io = await self._connect(sticky)
            if upstream_io is None:
                client_writer.write(_error_response(
                    503, "Service Unavailable", "no Rasa server is reachable right now; please try again shortly"))
                return
            upstream, (up_reader, up_writer) = upstream_io
            upstream.requests += 1
            up_writer.write(head)
            to_upstream = asyncio.ensure_future(_pipe(client_reader, up_writer))
            answered = await _pipe(up_reader, client_writer)
            if answered == 0 and not upgrade:
                logger.warning("%s closed the connection before answering %s", upstream.name, path)
                upstream.dead_until = time.monotonic() + RETRY_DEAD_AFTER
                client_writer.write(_error_response(
                    502, "Bad Gateway",
                    "the Rasa server went away before answering; your message may not have been processed, "
                    "please send it again"))
            to_upstream.cancel()
            with contextlib.suppress(Exception):
                up_writer.close()
        finally:
            with contextlib.suppress(Exception):
                await client_writer.drain()
                client_writer.close()

    async def _connect(self, sticky: Optional[str]):
        for upstream in self.balancer.order(sticky):
            try:
                streams = await asyncio.wait_for(
                    asyncio.open_connection(upstream.host, upstream.port, limit=MAX_HEAD_BYTES), CONNECT_TIMEOUT)
            except (OSError, asyncio.TimeoutError):
                if upstream.alive(time.monotonic()):
                    logger.warning("%s is not reachable; skipping it for %.0f s", upstream.name, RETRY_DEAD_AFTER)
                upstream.dead_until = time.monotonic() + RETRY_DEAD_AFTER
                continue
            upstream.dead_until = 0.0
            return upstream, streams
        return None


async def serve(listen: Tuple[str, int], upstreams: Sequence[Tuple[str, int]], ready: Optional[asyncio.Event] = None) -> None:
    proxy = Proxy(upstreams)
    server = await asyncio.start_server(proxy.handle, listen[0], listen[1], limit=MAX_HEAD_BYTES)
    logger.info("proxy on %s:%d -> %s", listen[0], listen[1], ", ".join(u.name for u in proxy.balancer.upstreams))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    async with server:
        await stop.wait()
    logger.info("proxy stopped; requests per upstream: %s",
                ", ".join(f"{u.name}={u.requests}" for u in proxy.balancer.upstreams))


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.proxy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=parse_address, default=("127.0.0.1", 5005), help="host:port to listen on")
    parser.add_argument("--upstream", type=parse_address, action="append", required=True,
                        help="a Rasa server host:port (repeat for each)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s proxy %(levelname)s %(message)s")
    asyncio.run(serve(args.listen, args.upstream))


if __name__ == "__main__":
    main()
