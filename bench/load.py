"""Load on the production shape: many concurrent conversations over two Rasa servers.

    .venv/bin/python bench/load.py                       # starts the production shape itself
    .venv/bin/python bench/load.py --conversations 200 --messages 10 --concurrency 40
    .venv/bin/python bench/load.py --rasa http://127.0.0.1:5006 --rasa http://127.0.0.1:5007 --token $RASA_TOKEN

Each conversation sends its messages one after another (as a customer does), alternating between
the Rasa servers: message 1 to server A, message 2 to server B, ... Conversations run concurrently.
Tracker store PostgreSQL and lock store Redis must keep every conversation whole and in order.

Checks, after the run, for every conversation (tracker fetched from the servers' HTTP API):
  - the customer messages are all there, once each, in the order sent;
  - the bot messages after each customer message are exactly the ones that customer received
    (answered exactly once: nothing missing, nothing twice, nothing from another conversation).
Figures: messages per second, latency p50 / p95 / p99 / max per message, failures.
"""

from __future__ import annotations

import argparse
import os
import json
import random
import shutil
import statistics
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
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.resilience import MESSAGES  # noqa: E402 - plain module, no Rasa import at module level

TECHNICAL_PROBLEM = set(MESSAGES.values())
SMALL_TALK = {"en": ["hello", "thanks!", "what can you do?"], "de": ["hallo", "danke!", "was kannst du?"]}


def message_pool(root: Path = ROOT) -> Dict[str, List[str]]:
    """Customer messages per language: the demo FAQ's questions and a little small talk."""
    pool: Dict[str, List[str]] = {}
    for language in ("en", "de"):
        data = yaml.safe_load((root / "data" / "faq" / f"{language}.yml").read_text(encoding="utf-8"))
        entries = data.get("entries", data) if isinstance(data, dict) else data
        questions = [q for entry in entries for q in entry.get("questions", [])]
        pool[language] = questions + SMALL_TALK[language]
    return pool


def script(rng: random.Random, pool: Dict[str, List[str]], length: int) -> List[str]:
    language = rng.choice(sorted(pool))
    return [rng.choice(pool[language]) for _ in range(length)]


@dataclass
class Conversation:
    sender: str
    messages: List[str]
    replies: List[List[str]] = field(default_factory=list)
    latencies: List[float] = field(default_factory=list)
    servers: List[int] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)


def talk(conversation: Conversation, servers: Sequence[str], timeout: float = 120.0) -> Conversation:
    """Send the messages in order, message i to server i % len(servers)."""
    session = requests.Session()
    for index, text in enumerate(conversation.messages):
        server = index % len(servers)
        started = time.perf_counter()
        try:
            response = session.post(
                f"{servers[server]}/webhooks/rest/webhook",
                json={"sender": conversation.sender, "message": text},
                timeout=timeout,
            )
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                conversation.errors.append(f"message {index}: HTTP {response.status_code} {response.text[:200]}")
                conversation.replies.append([])
            else:
                conversation.replies.append([m.get("text") for m in response.json() if m.get("text")])
        except requests.RequestException as exc:
            elapsed = time.perf_counter() - started
            conversation.errors.append(f"message {index}: {type(exc).__name__}: {exc}")
            conversation.replies.append([])
        conversation.latencies.append(elapsed)
        conversation.servers.append(server)
        session.close()  # a new connection per message: nothing pins a conversation to a server
        session = requests.Session()
    return conversation


def fetch_tracker(base_url: str, sender: str, token: Optional[str]) -> dict:
    params = {"token": token} if token else {}
    response = requests.get(f"{base_url}/conversations/{sender}/tracker", params=params, timeout=60)
    response.raise_for_status()
    return response.json()


def verify(conversation: Conversation, tracker: dict) -> List[str]:
    """Problems with one conversation's tracker; empty when it is whole and in order."""
    problems: List[str] = []
    turns: List[List[str]] = []
    user_texts: List[str] = []
    for event in tracker.get("events", []):
        if event.get("event") == "user":
            user_texts.append(event.get("text"))
            turns.append([])
        elif event.get("event") == "bot" and event.get("text") and turns:
            turns[-1].append(event["text"])
    if user_texts != conversation.messages:
        problems.append(f"customer messages in the tracker {user_texts!r} != sent {conversation.messages!r}")
        return problems
    for index, (said, received) in enumerate(zip(turns, conversation.replies)):
        if any(text in TECHNICAL_PROBLEM for text in received):
            problems.append(f"message {index} ({conversation.messages[index]!r}) got the technical-problem reply")
        elif not received:
            problems.append(f"message {index} ({conversation.messages[index]!r}) got no reply")
        elif said != received:
            problems.append(f"message {index}: tracker says {said!r}, customer received {received!r}")
    return problems


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def run_load(
    servers: Sequence[str],
    conversations: int,
    messages: int,
    concurrency: int,
    token: Optional[str],
    seed: int = 7,
    progress: bool = True,
) -> dict:
    rng = random.Random(seed)
    pool = message_pool()
    run_id = uuid.uuid4().hex[:8]
    work = [Conversation(f"load-{run_id}-{i:04d}", script(rng, pool, messages)) for i in range(conversations)]
    done = 0
    lock = threading.Lock()

    def one(conversation: Conversation) -> Conversation:
        nonlocal done
        talk(conversation, servers)
        with lock:
            done += 1
            if progress and (done % max(1, conversations // 10) == 0 or done == conversations):
                print(f"  {done}/{conversations} conversations done", flush=True)
        return conversation

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool_executor:
        finished = list(pool_executor.map(one, work))
    wall = time.perf_counter() - started

    problems: Dict[str, List[str]] = {}
    for index, conversation in enumerate(finished):
        tracker = fetch_tracker(servers[index % len(servers)], conversation.sender, token)
        found = conversation.errors + verify(conversation, tracker)
        if found:
            problems[conversation.sender] = found
    latencies = [x for c in finished for x in c.latencies]
    per_server = [sum(c.servers.count(i) for c in finished) for i in range(len(servers))]
    return {
        "conversations": conversations,
        "messages_per_conversation": messages,
        "concurrency": concurrency,
        "messages": len(latencies),
        "seconds": round(wall, 2),
        "messages_per_second": round(len(latencies) / wall, 2),
        "latency_ms": {
            name: round(1000 * percentile(latencies, share), 1)
            for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
        },
        "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else None,
        "per_server": per_server,
        "conversations_with_problems": len(problems),
        "problems": dict(list(problems.items())[:10]),
    }


def print_report(figures: dict) -> None:
    lat = figures["latency_ms"]
    print(
        f"\n{figures['conversations']} conversations x {figures['messages_per_conversation']} messages, "
        f"{figures['concurrency']} at a time, alternating over {len(figures['per_server'])} Rasa servers "
        f"(messages per server: {figures['per_server']})"
    )
    print(f"  {figures['messages']} messages in {figures['seconds']} s = {figures['messages_per_second']} messages/s")
    print(f"  latency per message: p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms, max {lat['max']} ms")
    bad = figures["conversations_with_problems"]
    print(
        f"  conversations complete and in order, every message answered exactly once: "
        f"{figures['conversations'] - bad}/{figures['conversations']}"
    )
    for sender, problems in figures["problems"].items():
        print(f"    {sender}: {problems[:3]}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Starts `scripts.prod.ProdStack` on free ports unless --rasa is given.",
    )
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--rasa", action="append", help="a Rasa server URL (repeat); default: start the stack")
    parser.add_argument("--token", help="Rasa's --auth-token (to read trackers)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    if args.rasa:
        figures = run_load(args.rasa, args.conversations, args.messages, args.concurrency, args.token, args.seed)
    else:
        from scripts.prod import ProdStack, fresh_secrets
        from scripts.stack import model_path

        model = model_path()
        if not model.exists():
            parser.error(f"no trained model at {model}: run `make train` first")
        base = Path(tempfile.mkdtemp(prefix="nordnet-load-"))
        base.chmod(0o755)  # the postgres user must reach its cluster directory
        secrets = fresh_secrets()
        from scripts.stack import build_kb

        build_kb({**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)})  # var/kb_index, if the FAQ changed
        stack = ProdStack.on_free_ports(base, secrets)
        print(f"starting the production shape in {base} (PostgreSQL, Redis, 2 Rasa servers, gunicorn) ...", flush=True)
        t0 = time.perf_counter()
        with stack.start(model):
            print(f"up in {time.perf_counter() - t0:.0f} s; sending ...", flush=True)
            servers = [stack.rasa_url(i) for i in range(len(stack.rasa_ports))]
            figures = run_load(
                servers, args.conversations, args.messages, args.concurrency, secrets["RASA_TOKEN"], args.seed
            )
        if figures["conversations_with_problems"] == 0:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"logs kept in {base / 'logs'}")
    print_report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if figures["conversations_with_problems"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
