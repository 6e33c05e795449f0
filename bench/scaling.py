"""Messages per second and p95 with 1, 2 and 3 Rasa servers behind nginx, in one run, on this machine.

    .venv/bin/python bench/scaling.py                       # starts the production shape with 3 Rasa servers
    .venv/bin/python bench/scaling.py --conversations 60 --messages 6 --concurrency 24

The production shape (PostgreSQL, Redis, action server, handoff service, three Rasa servers) starts
once; nginx is reloaded with the first 1, then 2, then 3 servers, and the same load runs through
it each time: conversations of alternating greetings (a rule: NLU + policy, no action server) and
FAQ questions (the action server searches the knowledge base), sent one after another per
conversation, many conversations at once. Every reply is checked (the greeting, the entry's answer).

All servers share this machine's cores, so more servers do not mean more CPU: the ratio between the
rows shows what the shape costs or gains (lock store, tracker store, nginx), not how it scales on
more machines. Figures: bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import percentile  # noqa: E402

GREETINGS = {"en": ["hello", "hi", "good morning"], "de": ["hallo", "guten Morgen", "guten Tag"]}
GREETING_REPLY = {"en": "Hi! I'm NordNet's digital assistant", "de": "Hallo! Ich bin der digitale Assistent"}


@dataclass
class Message:
    kind: str  # "greeting" or "faq"
    text: str
    expected: str  # a reply must contain this
    latency: float = 0.0
    ok: bool = False
    error: str = ""


@dataclass
class Conversation:
    sender: str
    messages: List[Message] = field(default_factory=list)


def faq_pool(root: Path = ROOT) -> Dict[str, List[Tuple[str, str]]]:
    """(question, answer) per language: every question of the demo FAQ."""
    pool: Dict[str, List[Tuple[str, str]]] = {}
    for language in ("en", "de"):
        data = yaml.safe_load((root / "data" / "faq" / f"{language}.yml").read_text(encoding="utf-8"))
        pool[language] = [(q, e["answer"].strip()) for e in data["entries"] for q in e["questions"][:2]]
    return pool


def conversations(count: int, length: int, seed: int) -> List[Conversation]:
    """Conversations of alternating greetings and FAQ questions, half English, half German."""
    rng, pool, run = random.Random(seed), faq_pool(), uuid.uuid4().hex[:6]
    made = []
    for index in range(count):
        language = ("en", "de")[index % 2]
        conversation = Conversation(f"scale-{run}-{index:04d}")
        for turn in range(length):
            if turn % 2 == 0:
                conversation.messages.append(
                    Message("greeting", rng.choice(GREETINGS[language]), GREETING_REPLY[language])
                )
            else:
                question, answer = rng.choice(pool[language])
                conversation.messages.append(Message("faq", question, answer))
        made.append(conversation)
    return made


def talk(base_url: str, conversation: Conversation) -> None:
    """One customer: each message after the previous reply, a new connection each time."""
    for message in conversation.messages:
        started = time.perf_counter()
        try:
            response = requests.post(
                f"{base_url}/webhooks/rest/webhook",
                timeout=120,
                json={"sender": conversation.sender, "message": message.text},
            )
            message.latency = time.perf_counter() - started
            if response.status_code != 200:
                message.error = f"HTTP {response.status_code}"
                continue
            replies = [m.get("text") or "" for m in response.json()]
            message.ok = any(message.expected in reply for reply in replies)
            if not message.ok:
                message.error = f"{message.text!r} -> {' '.join(replies)[:90]!r}"
        except requests.RequestException as exc:
            message.latency = time.perf_counter() - started
            message.error = type(exc).__name__


def run_load(base_url: str, count: int, length: int, concurrency: int, seed: int) -> dict:
    work = conversations(count, length, seed)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda c: talk(base_url, c), work))
    wall = time.perf_counter() - started
    messages = [m for c in work for m in c.messages]
    ms = lambda values, share: round(1000 * percentile(values, share), 0)  # noqa: E731
    figures = {
        "messages": len(messages),
        "seconds": round(wall, 1),
        "messages_per_second": round(len(messages) / wall, 2),
        "p50_ms": ms([m.latency for m in messages], 0.5),
        "p95_ms": ms([m.latency for m in messages], 0.95),
        "wrong_or_failed": sum(not m.ok for m in messages),
        "errors": sorted({m.error for m in messages if m.error}),
    }
    for kind in ("greeting", "faq"):
        latencies = [m.latency for m in messages if m.kind == kind]
        figures[f"{kind}_p50_ms"], figures[f"{kind}_p95_ms"] = ms(latencies, 0.5), ms(latencies, 0.95)
    return figures


def print_table(rows: List[dict], count: int, length: int, concurrency: int) -> None:
    print(
        f"\n{count} conversations x {length} messages (greeting, FAQ question, ...), {concurrency} at a time, "
        f"through nginx; {os.cpu_count()} cores shared by everything\n"
    )
    print("| Rasa servers | messages/s | p50 ms | p95 ms | greeting p95 ms | FAQ answer p95 ms | wrong or failed |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['servers']} | {row['messages_per_second']} | {row['p50_ms']:.0f} | {row['p95_ms']:.0f} | "
            f"{row['greeting_p95_ms']:.0f} | {row['faq_p95_ms']:.0f} | {row['wrong_or_failed']}/{row['messages']} |"
        )
    for row in rows:
        if row["errors"]:
            print(f"\n{row['servers']} server(s), {len(row['errors'])} distinct wrong or failed messages:")
            for error in row["errors"][:12]:
                print(f"  {error}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--messages", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)

    from scripts.nginx import NginxConfig
    from scripts.prod import ProdStack, fresh_secrets
    from scripts.stack import build_kb, model_path

    model = model_path()
    if not model.exists():
        parser.error(f"no trained model at {model}: run `make train` first")
    build_kb({**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)})  # var/kb_index, if the FAQ changed
    base = Path(tempfile.mkdtemp(prefix="nordnet-scaling-"))
    base.chmod(0o755)  # the postgres user and nginx's user must reach their directories
    stack = ProdStack.on_free_ports(base, fresh_secrets(), rasa_servers=max(args.servers))
    print(f"starting the production shape with {max(args.servers)} Rasa servers in {base} ...", flush=True)
    rows = []
    with stack.start(model):
        for servers in args.servers:
            nginx = NginxConfig(stack.nginx.listen, stack.nginx.upstreams[:servers], stack.nginx.directory)
            nginx.write()
            nginx.reload()
            run_load(stack.proxy_url, 4 * servers, 2, 4 * servers, args.seed + 1)  # warm each server up
            print(f"  {servers} Rasa server(s) ...", flush=True)
            rows.append(
                {
                    "servers": servers,
                    **run_load(stack.proxy_url, args.conversations, args.messages, args.concurrency, args.seed),
                }
            )
            print(f"    {rows[-1]['messages_per_second']} messages/s, p95 {rows[-1]['p95_ms']:.0f} ms", flush=True)
    shutil.rmtree(base, ignore_errors=True)
    print_table(rows, args.conversations, args.messages, args.concurrency)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(row["wrong_or_failed"] == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
