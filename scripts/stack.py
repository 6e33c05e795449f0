"""Start the whole system (handoff service, action server, Rasa) and stop it cleanly.

`make run` calls `python -m scripts.stack run`; the end-to-end tests use `Stack` to run the same
processes on free ports. Also: `train` (trains Rasa only when its data changed) and `endpoints`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Protocol, Sequence, Tuple
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
MODELS = ROOT / "models"
MODEL_NAME = "nordnet"
PYTHON = ROOT / ".venv" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
# `rasa` without the libraries' deprecation warnings (scripts/rasa_quiet.py), for the runners.
RASA_QUIET = [str(ROOT / ".venv-rasa" / "bin" / "python"), "-m", "scripts.rasa_quiet"]
# For the processes the runners start: TensorFlow's C++ info and warnings, SQLAlchemy 1.4's notice inside
# Rasa and rasa_sdk's note that Rasa 3.6 is older than it (the protocol works, see docs) say nothing a
# user can act on. Python's own deprecation warnings are off by default; errors are untouched.
QUIET = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore:You are using an old version of rasa:UserWarning,"
    "ignore:Your versions of rasa and rasa_sdk:UserWarning",
}
# What the trained model depends on: channel connectors (bot/channels.py, bot/messenger*.py) do not. The core
# modules are those the model's components import.
RASA_INPUTS = [
    "config.yml",
    "domain.yml",
    "data/nlu",
    "data/rules",
    "data/stories",
    "bot/nlu.py",
    "bot/policies.py",
    "bot/language.py",
    "core/faq.py",
    "core/language.py",
    "core/vocabulary.py",
]


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def quiet(env: Dict[str, str]) -> Dict[str, str]:
    """``env`` with QUIET added (a PYTHONWARNINGS of the caller's own comes after ours and so wins)."""
    own = env.get("PYTHONWARNINGS", "")
    return {**env, **QUIET, "PYTHONWARNINGS": ",".join(filter(None, (QUIET["PYTHONWARNINGS"], own)))}


def fingerprint(paths: List[str] = RASA_INPUTS, root: Path = ROOT) -> str:
    """A hash over everything that changes the trained Rasa model (FAQ files do not)."""
    digest = hashlib.sha256()
    for name in paths:
        path = root / name
        if not path.exists():
            continue
        files = (
            sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            if path.is_dir()
            else [path]
        )
        for file in files:
            if file.suffix not in {".yml", ".yaml", ".py"} and file != path:
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def model_path() -> Path:
    return MODELS / f"{MODEL_NAME}.tar.gz"


def train(force: bool = False) -> Path:
    """Train the Rasa model when its data changed since the last training, and only then."""
    stamp = MODELS / f"{MODEL_NAME}.fingerprint"
    current = fingerprint()
    if not force and model_path().exists() and stamp.exists() and stamp.read_text().strip() == current:
        log(f"Rasa model is up to date ({model_path().relative_to(ROOT)})")
        return model_path()
    log("training the Rasa model (data changed or no model yet; about a minute) ...")
    started = time.monotonic()
    subprocess.run(
        [
            *RASA_QUIET,
            "train",
            "--data",
            "data/nlu",
            "data/rules",
            "data/stories",
            "--domain",
            "domain.yml",
            "--config",
            "config.yml",
            "--out",
            str(MODELS),
            "--fixed-model-name",
            MODEL_NAME,
            "--force",
        ],
        cwd=ROOT,
        check=True,
        env=quiet(dict(os.environ)),
    )
    stamp.write_text(current)
    log(f"trained in {time.monotonic() - started:.0f} s")
    return model_path()


def _store_from_url(url: str, default_sqlite: Path) -> Dict[str, object]:
    if not url:
        return {"type": "SQL", "dialect": "sqlite", "db": str(default_sqlite)}
    parsed = urlparse(url)
    dialect = parsed.scheme.split("+")[0]
    if dialect == "sqlite":
        return {
            "type": "SQL",
            "dialect": "sqlite",
            "db": parsed.path.lstrip("/") if url.startswith("sqlite:///") else parsed.path,
        }
    dialect = "postgresql" if dialect in {"postgres", "postgresql"} else dialect
    store: Dict[str, object] = {
        "type": "SQL",
        "dialect": dialect,
        "url": parsed.hostname or "localhost",
        "db": parsed.path.lstrip("/"),
    }
    if parsed.port:
        store["port"] = parsed.port
    if parsed.username:
        store["username"] = parsed.username
    if parsed.password:
        store["password"] = parsed.password
    return store


def write_endpoints(
    path: Path, actions_url: str, tracker_store_url: str, lock_store_url: str, tracker_db: Path, action_token: str = ""
) -> Path:
    """Rasa's endpoints.yml for this run, from the environment (see README: configuration).

    ``action_token``: the action server's shared secret (actions/server.py), sent by Rasa as a header.
    """
    import json

    action_endpoint: Dict[str, object] = {"url": actions_url}
    if action_token:
        action_endpoint["headers"] = {"X-Action-Token": action_token}
    config: Dict[str, object] = {
        "action_endpoint": action_endpoint,
        "tracker_store": _store_from_url(tracker_store_url, tracker_db),
    }
    if lock_store_url:
        parsed = urlparse(lock_store_url)
        lock: Dict[str, object] = {"type": "redis", "url": parsed.hostname or "localhost", "port": parsed.port or 6379}
        if parsed.path.strip("/"):
            lock["db"] = int(parsed.path.strip("/"))
        if parsed.password:
            lock["password"] = parsed.password
        config["lock_store"] = lock
    path.parent.mkdir(parents=True, exist_ok=True)
    # JSON is valid YAML, and needs no YAML library in this script.
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def local_secret(var_dir: Path, name: str) -> str:
    """A random secret kept under var/ (mode 0600), made on first use: `make run` needs no configuration."""
    import secrets

    path = Path(var_dir) / f".{name}"
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value)
    return value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float, process: Optional[subprocess.Popen] = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def start_process(
    processes: Dict[str, subprocess.Popen],
    name: str,
    command: List[str],
    env: Dict[str, str],
    log_dir: Optional[Path],
) -> subprocess.Popen:
    """Start `command` in its own process group (so stopping it stops its children), logging to
    `log_dir/<name>.log` when given, and register it under `name`."""
    output = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        output = open(log_dir / f"{name}.log", "ab")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
        start_new_session=True,
    )
    processes[name] = process
    return process


def stop_processes(processes: Dict[str, subprocess.Popen], timeout: float) -> None:
    """SIGTERM every process group, wait up to `timeout` in all, SIGKILL what is left."""
    for process in processes.values():
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    for name, process in processes.items():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop in time; killing it")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    processes.clear()


@dataclass
class Stack:
    """The three processes on given ports, with a shared environment."""

    rasa_port: int = 5005
    actions_port: int = 5055
    handoff_port: int = 8000
    var_dir: Path = VAR
    env: Dict[str, str] = field(default_factory=dict)
    log_dir: Optional[Path] = None
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def handoff_url(self) -> str:
        return f"http://127.0.0.1:{self.handoff_port}"

    @property
    def rasa_token(self) -> str:
        """The token Rasa's HTTP API wants (trackers, trigger_intent): given, or made under var/."""
        return self.environment()["RASA_TOKEN"]

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def environment(self) -> Dict[str, str]:
        env = {**os.environ, **self.env}
        env.setdefault("DATABASE_URL", f"sqlite:///{self.var_dir / 'handoff.db'}")
        env.setdefault("RASA_URL", self.rasa_url)
        env.setdefault("HANDOFF_URL", self.handoff_url)
        env.setdefault("KB_INDEX_DIR", str(self.var_dir / "kb_index"))
        # Trust boundaries (README, "Security"): Rasa's HTTP API wants a token, the action server answers Rasa
        # only, widget sessions are signed. Given ones win; otherwise each is made once under var/.
        for name in ("RASA_TOKEN", "ACTION_SERVER_TOKEN", "WIDGET_SESSION_SECRET"):
            if not env.get(name):
                env[name] = local_secret(self.var_dir, name.lower())
        env["SANIC_HOST"] = "127.0.0.1"  # the action server (rasa_sdk) listens on loopback only
        env["PYTHONPATH"] = str(ROOT)
        env["HF_HUB_OFFLINE"] = "1"
        return quiet(env)

    def _start(self, name: str, command: List[str], env: Dict[str, str]) -> subprocess.Popen:
        return start_process(self.processes, name, command, env, self.log_dir)

    def start(self, model: Path, timeout: float = 180.0) -> "Stack":
        env = self.environment()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        endpoints = write_endpoints(
            self.var_dir / "endpoints.yml",
            f"{self.actions_url}/webhook",
            env.get("TRACKER_STORE_URL", ""),
            env.get("LOCK_STORE_URL", ""),
            self.var_dir / "tracker.db",
            env["ACTION_SERVER_TOKEN"],
        )
        subprocess.run([str(PYTHON), "-m", "handoff", "migrate"], cwd=ROOT, env=env, check=True)
        handoff = self._start(
            "handoff",
            [str(PYTHON), "-m", "handoff", "serve", "--host", "127.0.0.1", "--port", str(self.handoff_port)],
            env,
        )
        actions = self._start(
            "actions",
            [str(PYTHON), "-m", "actions.server", "--actions", "actions", "--port", str(self.actions_port)],
            env,
        )
        rasa = self._start(
            "rasa",
            [
                *RASA_QUIET,
                "run",
                "--model",
                str(model),
                "--port",
                str(self.rasa_port),
                "--enable-api",
                f"--auth-token={env['RASA_TOKEN']}",
                "--cors",
                "*",
                "--credentials",
                "credentials.yml",
                "--endpoints",
                str(endpoints),
            ],
            env,
        )
        try:
            wait_http(f"{self.handoff_url}/health", timeout, handoff)
            log("handoff service is up; waiting for the action server and Rasa (loading its model takes a minute)")
            wait_http(f"{self.actions_url}/health", timeout, actions)
            wait_http(f"{self.rasa_url}/", timeout, rasa)
            log("Rasa is up; loading the knowledge base's encoders in the action server ...")
            self._warm_up()
        except Exception:
            self.stop()
            raise
        return self

    def _warm_up(self, action_token: Optional[str] = None) -> None:
        """Load the embedding model in the action server before the first customer waits for it. Through the
        action server's own /warmup, not a made-up conversation: a question from a `__warmup__` customer would
        land in the insight figures."""
        request = urllib.request.Request(
            f"{self.actions_url}/warmup",
            data=b"{}",
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Action-Token": action_token or self.environment()["ACTION_SERVER_TOKEN"],
            },
        )
        try:
            urllib.request.urlopen(request, timeout=120).read()
        except (urllib.error.URLError, OSError) as exc:
            log(f"warm-up request failed ({exc}); the first question will be slower")

    def stop(self, timeout: float = 15.0) -> None:
        stop_processes(self.processes, timeout)

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def build_kb(env: Dict[str, str]) -> None:
    """Validate the FAQ and (re)build the index; a broken FAQ stops everything here."""
    result = subprocess.run([str(PYTHON), "-m", "knowledge_base", "build", "--if-changed"], cwd=ROOT, env=env)
    if result.returncode != 0:
        log("the FAQ sources have errors (see above); nothing was started")
        sys.exit(result.returncode)


def banner(title: str, rows: Sequence[Tuple[str, str]], notes: Sequence[str] = ()) -> str:
    """What a runner prints once everything is up: a table of what is where, then notes."""
    width = max(len(label) for label, _ in rows)
    lines = [f"  {label:<{width}}  {value}".rstrip() for label, value in rows]
    return "\n".join(
        ["", title, "", *lines, "", *(f"  {note}" for note in notes), "", "Press Ctrl-C to stop everything.", ""]
    )


class Runnable(Protocol):
    """Stack and ProdStack: named processes, and a stop for all of them."""

    processes: Dict[str, subprocess.Popen]

    def stop(self) -> None: ...


def run_until_stopped(stack: Runnable, start: Callable[[], object], announce: Callable[[float], str]) -> None:
    """The run loop of `make run` and `make run-prod`: start, print ``announce(seconds it took)``, then keep
    everything up until Ctrl-C, SIGTERM or one of the processes exiting, and stop it all."""
    started = time.monotonic()
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        start()
        print(announce(time.monotonic() - started), flush=True)
        while all(p.poll() is None for p in stack.processes.values()):
            time.sleep(0.5)
        dead = [name for name, p in stack.processes.items() if p.poll() is not None]
        log(f"{', '.join(dead)} exited unexpectedly; stopping the rest")
    except KeyboardInterrupt:
        log("stopping ...")
    finally:
        stack.stop()
        log("all stopped")


def run(args: argparse.Namespace) -> None:
    stack = Stack(args.rasa_port, args.actions_port, args.handoff_port)
    env = stack.environment()
    build_kb(env)
    model = train()
    log("starting handoff service, action server and Rasa ...")
    handoff, rasa = f"http://localhost:{args.handoff_port}", f"http://localhost:{args.rasa_port}"
    login = "{} / {}".format
    rows = [
        ("Demo page with the chat widget", f"{handoff}/"),
        ("Agent console", f"{handoff}/agent/"),
        (
            "    demo agent",
            login(
                env.get("HANDOFF_DEMO_AGENT_EMAIL") or "agent@nordnet.example",
                env.get("HANDOFF_DEMO_AGENT_PASSWORD") or "agent-demo",
            ),
        ),
        (
            "    demo admin",
            login(
                env.get("HANDOFF_DEMO_ADMIN_EMAIL") or "admin@nordnet.example",
                env.get("HANDOFF_DEMO_ADMIN_PASSWORD") or "admin-demo",
            ),
        ),
        ("Handoff bot API", f"{handoff}/api/   (health: /health)"),
        ("Rasa (REST, socket.io, HTTP API)", f"{rasa}/   (HTTP API token: var/.rasa_token)"),
        ("Action server", f"http://127.0.0.1:{args.actions_port}/health   (Rasa only: var/.action_server_token)"),
    ]
    question = '{"sender":"u1","message":"How do I change my delivery address?"}'
    notes = [f"Try:  curl -s localhost:{args.rasa_port}/webhooks/rest/webhook -d '{question}'"]
    run_until_stopped(
        stack,
        lambda: stack.start(model),
        lambda seconds: banner(f"NordNet FAQ bot is up ({seconds:.0f} s)", rows, notes),
    )


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.stack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="build the KB, train if needed, start all services")
    run_parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    run_parser.add_argument("--actions-port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    run_parser.add_argument("--handoff-port", type=int, default=int(os.environ.get("HANDOFF_PORT", 8000)))
    train_parser = commands.add_parser("train", help="train the Rasa model if its data changed")
    train_parser.add_argument("--force", action="store_true", help="train even if nothing changed")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args)
    elif args.command == "train":
        train(force=args.force)


if __name__ == "__main__":
    main()
