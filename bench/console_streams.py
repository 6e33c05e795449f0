"""Many open agent-console tabs while the bot API keeps answering (gunicorn gevent workers).

    .venv/bin/python bench/console_streams.py                 # 200 tabs; starts PostgreSQL + gunicorn as run-prod does
    .venv/bin/python bench/console_streams.py --streams 40 --worker-class gthread   # the former setting

Each console tab holds a server-sent event stream (`GET /agent/events`) for up to ten minutes.
The bench measures the bot API (`GET /api/availability`, as the action server calls it) without
open streams, then with N streams open, and how long it takes until every open stream has seen the
escalation the API just created (`POST /api/escalations`). `--worker-class gthread` runs the
former setting (a thread per open stream, 2 workers x 16 threads) for comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import percentile  # noqa: E402


@dataclass
class Stream:
    """One console tab's event stream, read on a thread of its own."""

    http: requests.Session  # its own, kept open: a closed session may close the stream under the reader
    response: requests.Response
    hello: threading.Event = field(default_factory=threading.Event)
    seen: Dict[int, float] = field(default_factory=dict)  # conversation id -> when its event arrived
    closed: bool = False

    def read(self) -> None:
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line.startswith("data:") and '"hello"' in line:
                    self.hello.set()
                elif line.startswith("data:") and '"conversation_id": ' in line:
                    value = line.split('"conversation_id": ', 1)[1].split(",", 1)[0]
                    if value.isdigit():
                        self.seen.setdefault(int(value), time.monotonic())
        except (requests.RequestException, OSError, ValueError, AttributeError):
            pass  # closed (AttributeError: urllib3 reading a response another thread closed)
        finally:
            self.closed = True


class ConsoleTabs:
    """N open event streams of one logged-in console session (as N tabs of one browser)."""

    def __init__(self, base_url: str, cookies: requests.cookies.RequestsCookieJar, count: int) -> None:
        self.streams: List[Stream] = []
        self.refused = 0  # streams the service did not start within 15 s
        for _ in range(count):
            http = requests.Session()
            try:
                response = http.get(
                    f"{base_url}/agent/events",
                    cookies=cookies,
                    stream=True,
                    timeout=(5, 15),
                    headers={"Accept": "text/event-stream"},
                )
                response.raise_for_status()
            except requests.RequestException:
                self.refused += 1
                http.close()
                continue
            sock = getattr(getattr(response.raw, "connection", None), "sock", None)
            if sock is not None:  # 15 s for the headers; the body then has a keepalive every 15 s
                sock.settimeout(60)
            stream = Stream(http, response)
            threading.Thread(target=stream.read, daemon=True).start()
            self.streams.append(stream)

    def wait_open(self, timeout: float) -> int:
        """How many streams said hello within `timeout`."""
        deadline = time.monotonic() + timeout
        for stream in self.streams:
            stream.hello.wait(max(0.0, deadline - time.monotonic()))
        return sum(s.hello.is_set() and not s.closed for s in self.streams)

    def wait_seen(self, conversation_id: int, since: float, timeout: float) -> List[float]:
        """Seconds from `since` until each stream saw the conversation (missing ones are left out)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(conversation_id in s.seen for s in self.streams):
            time.sleep(0.05)
        return [s.seen[conversation_id] - since for s in self.streams if conversation_id in s.seen]

    def close(self) -> None:
        # Shut the sockets down first: closing a response waits for the lock its reader holds while
        # it waits for the next keepalive (up to 15 s per stream).
        for stream in self.streams:
            sock = getattr(getattr(stream.response.raw, "connection", None), "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for stream in self.streams:
            stream.response.close()
            stream.http.close()


class BotApi:
    """The handoff service's bot API, called as the action server calls it."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}

    def availability(self) -> Optional[float]:
        """Seconds for one call; None when it failed or took over 10 s."""
        started = time.perf_counter()
        try:
            response = requests.get(
                f"{self.base_url}/api/availability", params={"language": "en"}, headers=self.headers, timeout=10
            )
            response.raise_for_status()
        except requests.RequestException:
            return None
        return time.perf_counter() - started

    def escalate(self) -> Optional[int]:
        key = uuid.uuid4().hex
        body = {
            "idempotency_key": key,
            "sender_id": f"bench-{key[:12]}",
            "channel": "rest",
            "language": "en",
            "reason": "requested",
            "question": "I would like to talk to a person",
            "transcript": [
                {"role": "user", "text": "I would like to talk to a person", "timestamp": time.time(), "kb": None}
            ],
        }
        try:
            response = requests.post(f"{self.base_url}/api/escalations", json=body, headers=self.headers, timeout=10)
            response.raise_for_status()
        except requests.RequestException:
            return None
        return int(response.json()["conversation_id"])

    def latencies(self, count: int, concurrency: int) -> List[Optional[float]]:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(lambda _: self.availability(), range(count)))


def login(base_url: str, email: str, password: str) -> requests.cookies.RequestsCookieJar:
    """The console session's cookies after logging in through the login form."""
    with requests.Session() as http:
        page = http.get(f"{base_url}/agent/login", timeout=30)
        page.raise_for_status()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        reply = http.post(
            f"{base_url}/agent/login",
            timeout=30,
            data={"csrf_token": token, "email": email, "password": password, "next": ""},
        )
        reply.raise_for_status()
        if "/agent/login" in reply.url:
            raise RuntimeError(f"cannot log in as {email}")
        return http.cookies


def measure(
    base_url: str,
    api_token: str,
    cookies: requests.cookies.RequestsCookieJar,
    streams: int,
    requests_count: int = 200,
    concurrency: int = 8,
) -> dict:
    """The bot API's latency without and with `streams` open tabs, and how fast the tabs hear of news."""
    api = BotApi(base_url, api_token)
    api.latencies(20, concurrency)  # warm the workers' pools
    before = api.latencies(requests_count, concurrency)
    tabs = ConsoleTabs(base_url, cookies, streams)
    try:
        opened = tabs.wait_open(60)
        during = api.latencies(requests_count, concurrency)
        started = time.monotonic()
        conversation_id = api.escalate()
        delays = tabs.wait_seen(conversation_id, started, 30) if conversation_id is not None else []
        still_open = sum(not s.closed for s in tabs.streams)
    finally:
        tabs.close()

    def ms(values: List[Optional[float]], share: float) -> Optional[float]:
        answered = [v for v in values if v is not None]
        return round(1000 * percentile(answered, share), 1) if answered else None

    return {
        "streams": streams,
        "streams_refused": tabs.refused,
        "streams_open": opened,
        "streams_still_open": still_open,
        "api_requests": requests_count,
        "api_concurrency": concurrency,
        "api_failed_without": before.count(None),
        "api_failed_with": during.count(None),
        "api_p50_ms_without": ms(before, 0.5),
        "api_p95_ms_without": ms(before, 0.95),
        "api_p50_ms_with": ms(during, 0.5),
        "api_p95_ms_with": ms(during, 0.95),
        "api_max_ms_with": ms(during, 1.0),
        "streams_that_saw_the_escalation": len(delays),
        "event_delay_p95_ms": ms(delays, 0.95),
    }


def print_report(figures: dict, worker_class: str) -> None:
    print(
        f"\nhandoff service under gunicorn ({worker_class} workers): {figures['streams']} console streams asked for, "
        f"{figures['streams_refused']} not started within 15 s, {figures['streams_open']} said hello, "
        f"{figures['streams_still_open']} still open at the end"
    )
    print(
        f"  bot API (GET /api/availability, {figures['api_requests']} calls, {figures['api_concurrency']} at a time):"
    )
    print(
        f"    without streams  p50 {figures['api_p50_ms_without']} ms  p95 {figures['api_p95_ms_without']} ms  "
        f"failed or over 10 s: {figures['api_failed_without']}"
    )
    print(
        f"    with streams     p50 {figures['api_p50_ms_with']} ms  p95 {figures['api_p95_ms_with']} ms  "
        f"max {figures['api_max_ms_with']} ms  failed or over 10 s: {figures['api_failed_with']}"
    )
    print(
        f"  an escalation created through the API reached {figures['streams_that_saw_the_escalation']} open "
        f"streams, p95 {figures['event_delay_p95_ms']} ms after the call"
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200, help="bot API calls per measurement")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--handoff-workers", type=int, default=2)
    parser.add_argument(
        "--worker-class",
        choices=["gevent", "gthread"],
        default="gevent",
        help="gthread (16 threads a worker) shows what one thread per open tab costs",
    )
    args = parser.parse_args(argv)

    from scripts.prod import ADMIN_EMAIL, ProdStack, fresh_secrets

    base = Path(tempfile.mkdtemp(prefix="nordnet-streams-"))
    base.chmod(0o755)  # the postgres user must reach its cluster directory
    secrets = fresh_secrets()
    # Only what the console needs: PostgreSQL and the handoff service under gunicorn, as run-prod starts them.
    stack = ProdStack.on_free_ports(base, secrets, handoff_workers=args.handoff_workers, durable=False)
    stack.env["HANDOFF_CONSOLE_LIMIT"] = "100000 per minute"  # one address opens every tab here
    stack.env["HANDOFF_API_LIMIT"] = "1000000 per minute"
    if args.worker_class == "gthread":  # overrides handoff/gunicorn.conf.py
        stack.env["GUNICORN_CMD_ARGS"] = "--worker-class gthread --threads 16"
    print(
        f"starting PostgreSQL and the handoff service ({args.handoff_workers} gunicorn workers) in {base} ...",
        flush=True,
    )
    try:
        stack.start_infrastructure()
        env = stack.environment()
        subprocess.run(
            [sys.executable, "-m", "handoff", "migrate"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )
        stack.ensure_admin(env)
        stack.start_handoff(env)
        stack.wait("handoff", 120)
        cookies = login(stack.handoff_url, ADMIN_EMAIL, secrets["HANDOFF_ADMIN_PASSWORD"])
        figures = measure(
            stack.handoff_url, secrets["HANDOFF_API_TOKEN"], cookies, args.streams, args.requests, args.concurrency
        )
    finally:
        stack.stop()
    print_report(figures, args.worker_class)
    ok = figures["streams_open"] == args.streams and figures["streams_that_saw_the_escalation"] == args.streams
    ok = ok and figures["api_failed_with"] == 0
    if ok:
        shutil.rmtree(base, ignore_errors=True)
    else:
        print(f"logs kept in {base / 'logs'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
