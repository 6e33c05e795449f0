"""Customers' own words through the whole system: each message opens a new conversation on Rasa's REST channel.

    .venv/bin/python bench/customer_words.py                      # dev set, starts its own stack
    .venv/bin/python bench/customer_words.py --set final          # the set looked at once
    .venv/bin/python bench/customer_words.py --rasa-url http://127.0.0.1:5005 --token "$(cat var/rasa_token)"

The sets (``bench/customer_sets/*.csv``: ``text,lang,kind,label``) were written by a helper who saw only
the FAQ's answers, never its questions or ``data/nlu``; never copy their sentences into training data.
``kind`` is ``faq`` (label = the entry that answers it), ``human``, ``callback`` or ``oos``.

Per set and language it prints: FAQ questions answered directly with the right entry, right entry answered
or offered in a "did you mean" list, wrong direct answers; requests for a person or a callback that started
the handoff or the callback form; out-of-scope questions declined honestly (no answer, no list); replies in
the customer's language; p50/p95 reply time. ``--check`` exits 1 when a floor of issue 17 is missed.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SETS = ROOT / "bench" / "customer_sets"
FLOORS = {  # issue 17
    ("de", "direct"): 0.70,
    ("en", "direct"): 0.85,
    ("all", "offered"): 0.95,
    ("all", "wrong_max"): 0.03,
    ("all", "handoff"): 0.95,
    ("all", "declined"): 0.90,
    ("all", "language"): 1.0,
}
HANDOFF_ACTIONS = {"action_hand_off", "callback_form", "action_switch_to_callback"}
_CHOICE = re.compile(r'/choose_entry\{"entry_id":\s*"([^"]+)"\}')


def load_set(name: str) -> list[dict]:
    path = Path(name) if name.endswith(".csv") else SETS / f"{name}.csv"
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def faq_answers() -> dict[str, tuple[str, str]]:
    """Answer text (normalised) -> (entry id, language), from the FAQ files."""
    answers = {}
    for file in sorted((ROOT / "data" / "faq").glob("*.yml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        for entry in data["entries"]:
            answers[_norm(entry["answer"])] = (str(entry["id"]), entry.get("language", data.get("language")))
    return answers


def _norm(text: str) -> str:
    return " ".join((text or "").split())


class Client:
    def __init__(self, rasa_url: str, token: str | None):
        self.url = rasa_url.rstrip("/")
        self.params = {"token": token} if token else {}
        self.session = requests.Session()

    def say(self, sender: str, text: str) -> tuple[list[dict], float]:
        started = time.perf_counter()
        reply = self.session.post(
            f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
        )
        elapsed = time.perf_counter() - started
        reply.raise_for_status()
        return reply.json(), elapsed

    def tracker(self, sender: str) -> dict:
        reply = self.session.get(f"{self.url}/conversations/{sender}/tracker", params=self.params, timeout=30)
        reply.raise_for_status()
        return reply.json()


def outcome(messages: list[dict], tracker: dict, answers: dict) -> dict:
    """What the customer got: an answer (entry), a list (entries), a handoff, or nothing of these."""
    answered, offered = None, []
    for message in messages:
        text = _norm(message.get("text", ""))
        for answer, (entry_id, language) in answers.items():
            if answer and answer in text:
                answered = (entry_id, language)
        for button in message.get("buttons") or []:
            found = _CHOICE.search(button.get("payload", ""))
            if found:
                offered.append(found.group(1))
    actions = {e.get("name") for e in tracker.get("events", []) if e.get("event") == "action"}
    loop = (tracker.get("active_loop") or {}).get("name")
    return {
        "answered": answered,
        "offered": offered,
        "handoff": bool(actions & HANDOFF_ACTIONS) or loop == "callback_form",
        "language": (tracker.get("slots") or {}).get("language"),
        "texts": [m.get("text", "") for m in messages],
    }


def score(rows: list[dict], results: list[dict]) -> dict:
    counts: Counter = Counter()
    misses = defaultdict(list)
    for row, got in zip(rows, results):
        lang, kind = row["lang"], row["kind"]
        for scope in (lang, "all"):
            counts[(scope, kind)] += 1
            counts[(scope, "n")] += 1
            counts[(scope, "language")] += got["language"] == lang
        answered = got["answered"][0] if got["answered"] else None
        if kind == "faq":
            right = answered == row["label"]
            offered = right or (answered is None and row["label"] in got["offered"][:3])
            wrong = answered is not None and not right
            for scope in (lang, "all"):
                counts[(scope, "direct")] += right
                counts[(scope, "offered")] += offered
                counts[(scope, "wrong")] += wrong
            if not right:
                misses[f"faq_{lang}"].append(
                    (
                        row["text"],
                        row["label"],
                        answered or got["offered"][:3] or ("handoff" if got["handoff"] else "declined"),
                    )
                )
        elif kind in ("human", "callback"):
            for scope in (lang, "all"):
                counts[(scope, "handoff")] += got["handoff"]
                counts[(scope, "person")] += 1
            if not got["handoff"]:
                misses[f"person_{lang}"].append((row["text"], got["texts"][:1]))
        else:
            declined = answered is None and not got["offered"] and not got["handoff"]
            for scope in (lang, "all"):
                counts[(scope, "declined")] += declined
            if not declined:
                misses[f"oos_{lang}"].append((row["text"], answered or got["offered"][:3] or "handoff"))
        if got["language"] != lang:
            misses["language"].append((row["text"], got["language"]))
    figures = {}
    for scope in ("de", "en", "all"):
        faq = counts[(scope, "faq")] or 1
        figures[scope] = {
            "faq": counts[(scope, "faq")],
            "direct": round(counts[(scope, "direct")] / faq, 3),
            "offered": round(counts[(scope, "offered")] / faq, 3),
            "wrong": round(counts[(scope, "wrong")] / faq, 3),
            "handoff": round(counts[(scope, "handoff")] / (counts[(scope, "person")] or 1), 3),
            "declined": round(counts[(scope, "declined")] / (counts[(scope, "oos")] or 1), 3),
            "language": round(counts[(scope, "language")] / (counts[(scope, "n")] or 1), 3),
        }
    return {"figures": figures, "misses": dict(misses)}


def missed_floors(figures: dict) -> list[str]:
    missed = []
    for (scope, name), floor in FLOORS.items():
        if name == "wrong_max":
            if figures[scope]["wrong"] > floor:
                missed.append(f"{scope} wrong {figures[scope]['wrong']} > {floor}")
        elif figures[scope][name] < floor:
            missed.append(f"{scope} {name} {figures[scope][name]} < {floor}")
    return missed


def run(client: Client, rows: list[dict]) -> tuple[list[dict], list[float]]:
    answers = faq_answers()
    results, times = [], []
    for row in rows:
        sender = f"bench-{uuid.uuid4().hex[:12]}"
        messages, elapsed = client.say(sender, row["text"])
        times.append(elapsed)
        results.append(outcome(messages, client.tracker(sender), answers))
    return results, times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", help="dev, final or a CSV path (repeatable; default dev)")
    parser.add_argument("--rasa-url", help="a running Rasa server; default: start the whole stack on free ports")
    parser.add_argument("--token", help="Rasa's HTTP API token (for the tracker)")
    parser.add_argument("--misses", action="store_true", help="print what went wrong, message by message")
    parser.add_argument("--check", action="store_true", help="exit 1 when a floor is missed")
    args = parser.parse_args(argv)
    stack = None
    if args.rasa_url:
        client = Client(args.rasa_url, args.token)
    else:
        stack, client = _start_stack()
    failed = False
    try:
        for name in args.set or ["dev"]:
            rows = load_set(name)
            results, times = run(client, rows)
            report = score(rows, results)
            times_ms = sorted(t * 1000 for t in times)
            line = {
                "set": name,
                **report["figures"],
                "p50_ms": round(statistics.median(times_ms), 1),
                "p95_ms": round(times_ms[int(0.95 * (len(times_ms) - 1))], 1),
            }
            missed = missed_floors(report["figures"])
            line["missed_floors"] = missed
            failed |= bool(missed)
            print(json.dumps(line, ensure_ascii=False), flush=True)
            if args.misses:
                for group, items in report["misses"].items():
                    print(f"--- {group} ({len(items)})")
                    for item in items:
                        print("   ", json.dumps(item, ensure_ascii=False))
    finally:
        if stack is not None:
            stack.stop()
    return 1 if (failed and args.check) else 0


def _start_stack():
    import os
    import subprocess
    import tempfile

    from scripts.stack import PYTHON, Stack, free_port, train

    var = Path(tempfile.mkdtemp(prefix="bench-customer-"))
    token = uuid.uuid4().hex
    env = {
        "DATABASE_URL": f"sqlite:///{var / 'handoff.db'}",
        "KB_INDEX_DIR": str(var / "kb_index"),
        "HF_HUB_OFFLINE": "1",
        "RASA_TOKEN": token,
    }
    subprocess.run(
        [str(PYTHON), "-m", "knowledge_base", "build", "--no-progress"], cwd=ROOT, env={**os.environ, **env}, check=True
    )
    stack = Stack(free_port(), free_port(), free_port(), var_dir=var, env=env, log_dir=var / "logs")
    stack.start(train(), timeout=300)
    return stack, Client(stack.rasa_url, token)


if __name__ == "__main__":
    sys.exit(main())
