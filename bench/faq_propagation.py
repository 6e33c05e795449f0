"""How long a published FAQ entry takes to reach every action-server replica.

    .venv/bin/python -m bench.faq_propagation [--replicas 2] [--publishes 10] [--follow-seconds 1] [--postgres]

Starts one handoff service and N action servers (each with its own FAQ copy and index directory, as on N
machines; scripts/replicas.py), publishes entries one after another through the console's Insights API
and, after each, asks every replica (POST /webhook, as Rasa does; one thread each) every 100 ms until it
answers the new entry.
The delay counts from the publish request's reply to the replica's first right answer: up to one poll
interval of the replicas (KB_FOLLOW_SECONDS; half of it on average), reading the change from the handoff
service, encoding the entry and laying it over the index on each replica, and the 100 ms of asking.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scripts.replicas import Replicas

TOPICS = [
    "parrots",
    "bicycles",
    "umbrellas",
    "pianos",
    "kayaks",
    "telescopes",
    "surfboards",
    "drones",
    "aquariums",
    "tents",
    "saxophones",
    "canoes",
    "trampolines",
    "chandeliers",
    "harps",
    "sleds",
]


def entry(number: int) -> dict:
    topic = TOPICS[number % len(TOPICS)]
    return {
        "id": f"bench-{topic}-{number}",
        "language": "en",
        "new": True,
        "questions": [f"Do you deliver {topic} to my home?", f"Can I order {topic} online?"],
        "answer": f"Yes, {topic} are delivered within five working days (bench entry {number}).",
    }


def run(replicas: int, publishes: int, follow_seconds: float, postgres: bool) -> dict:
    base = Path(tempfile.mkdtemp(prefix="faq-propagation-"))
    database, cluster = "", None
    if postgres:
        from scripts.prod import LocalPostgres
        from scripts.stack import free_port

        base.chmod(0o755)
        cluster = LocalPostgres(base / "pg", port=free_port(), durable=False).start()
        cluster.create_database("handoff")
        database = cluster.url("handoff")
    stack = Replicas(base, count=replicas, database_url=database, follow_seconds=follow_seconds)
    delays: list[float] = []
    publish_ms: list[float] = []
    try:
        stack.prepare()
        stack.start_handoff()
        for number in range(replicas):
            stack.start_actions(number)
        stack.publish({**entry(-1), "id": "bench-warm-up"})  # the handoff service loads its model on first publish
        for number in range(publishes):
            data = entry(number)
            started = time.monotonic()
            stack.publish(data)
            published = time.monotonic()
            publish_ms.append((published - started) * 1000)
            with ThreadPoolExecutor(replicas) as pool:  # each replica asked on its own, every 100 ms
                took = list(
                    pool.map(
                        lambda r: stack.wait_until_answered(
                            r, data["questions"][0], data["answer"], timeout=30, poll=0.1
                        ),
                        range(replicas),
                    )
                )
            if None in took:
                raise SystemExit(f"a replica did not answer publish {number} within 30 s: {took}")
            delays.extend(took)
    finally:
        stack.stop()
        if cluster is not None:
            cluster.stop("immediate")
    return {
        "replicas": replicas,
        "publishes": publishes,
        "follow_seconds": follow_seconds,
        "database": "postgresql" if postgres else "sqlite",
        "propagation_p50_s": round(statistics.median(delays), 3),
        "propagation_max_s": round(max(delays), 3),
        "publish_request_p50_ms": round(statistics.median(publish_ms), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--publishes", type=int, default=10)
    parser.add_argument("--follow-seconds", type=float, default=1.0)
    parser.add_argument("--postgres", action="store_true", help="the handoff database on a throwaway PostgreSQL")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.replicas, args.publishes, args.follow_seconds, args.postgres), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
