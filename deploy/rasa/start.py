"""The Rasa container's entry point: endpoints.yml from the environment, then `rasa run` as scripts/stack.py runs it.

    python deploy/rasa/start.py [extra rasa run arguments]

Refuses to start (exit 2, one line per problem) without what a server behind a load balancer needs:
RASA_TOKEN (Rasa's HTTP API; the handoff service delivers agents' replies through it),
ACTION_SERVER_TOKEN (sent to the action server as X-Action-Token), TRACKER_STORE_URL (every replica
sees every conversation) and WIDGET_SESSION_SECRET or SECRET_KEY (a widget session issued by one
replica verifies on the others). LOCK_STORE_URL and SOCKETIO_MESSAGE_QUEUE (redis://...) are needed
as soon as there is more than one replica. ACTION_ENDPOINT_URL names the action server
(default http://actions:5055/webhook, the name of its Service in compose.yaml and the manifests).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Mapping

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.stack import MODEL_NAME, write_endpoints  # noqa: E402  (needs the repository root on the path)

DEFAULT_ACTION_ENDPOINT = "http://actions:5055/webhook"
REQUIRED = ("RASA_TOKEN", "ACTION_SERVER_TOKEN", "TRACKER_STORE_URL")


def problems(env: Mapping[str, str]) -> List[str]:
    """What is missing for a server that shares its conversations with other replicas."""
    found = [f"{name} must be set" for name in REQUIRED if not env.get(name, "").strip()]
    if not (env.get("WIDGET_SESSION_SECRET", "").strip() or env.get("SECRET_KEY", "").strip()):
        found.append("WIDGET_SESSION_SECRET (or SECRET_KEY) must be set: widget sessions must verify on every replica")
    tracker = env.get("TRACKER_STORE_URL", "").strip().lower()
    if tracker.startswith("sqlite") or tracker in ("memory", "none"):
        found.append("TRACKER_STORE_URL must name a shared database (postgresql://...), not a file in the container")
    return found


def rasa_command(env: Mapping[str, str], endpoints: Path, model: Path, extra: List[str]) -> List[str]:
    """The same `rasa run` as scripts/stack.py, listening on all interfaces of the container."""
    return [
        "rasa",
        "run",
        "--model",
        str(model),
        "--port",
        env.get("RASA_PORT", "5005"),
        "--enable-api",
        "--auth-token",
        env["RASA_TOKEN"],
        "--cors",
        env.get("RASA_CORS_ORIGINS", "*"),
        "--credentials",
        str(ROOT / "credentials.yml"),
        "--endpoints",
        str(endpoints),
        *extra,
    ]


def prepare(env: Dict[str, str], extra: List[str]) -> List[str]:
    """Write endpoints.yml into the temporary directory and return the command to exec."""
    endpoints = write_endpoints(
        Path(tempfile.gettempdir()) / "endpoints.yml",
        env.get("ACTION_ENDPOINT_URL", "").strip() or DEFAULT_ACTION_ENDPOINT,
        env["TRACKER_STORE_URL"].strip(),
        env.get("LOCK_STORE_URL", "").strip(),
        Path(tempfile.gettempdir()) / "unused-tracker.db",
        env["ACTION_SERVER_TOKEN"].strip(),
    )
    return rasa_command(env, endpoints, ROOT / "models" / f"{MODEL_NAME}.tar.gz", extra)


def main(argv: List[str]) -> None:
    env = dict(os.environ)
    found = problems(env)
    if found:
        print("deploy/rasa/start.py: cannot start Rasa:\n  " + "\n  ".join(found), file=sys.stderr)
        raise SystemExit(2)
    command = prepare(env, argv)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
