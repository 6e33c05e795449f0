"""Production shape on one machine, without Docker: PostgreSQL + Redis + two Rasa servers behind
nginx + gunicorn handoff workers (gevent) + the action server.

    python -m scripts.prod run            # `make run-prod`
    python -m scripts.prod secrets        # print fresh secrets for an env file

What runs (ports are the defaults; every one can be changed):

  nginx 5005 ──► Rasa 5006, Rasa 5007   (tracker store: PostgreSQL, lock store: Redis)
  action server 5055                     (knowledge base, handoff client)
  handoff 8000 (gunicorn, 2 gevent workers, handoff/gunicorn.conf.py)   (PostgreSQL)
  PostgreSQL 5433, Redis 6380            (started here unless DATABASE_URL / TRACKER_STORE_URL /
                                           LOCK_STORE_URL point at servers you run)

Secrets come only from the environment (SECRET_KEY, HANDOFF_API_TOKEN, RASA_TOKEN,
HANDOFF_ADMIN_PASSWORD). `make run-prod` loads them from `var/prod/secrets.env`, which it creates
with random values on the first run; the services refuse development defaults in this mode.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from scripts.nginx import NginxConfig
from scripts.stack import (
    PYTHON,
    RASA_QUIET,
    ROOT,
    VAR,
    Stack,
    banner,
    build_kb,
    free_port,
    log,
    quiet,
    run_until_stopped,
    start_process,
    stop_processes,
    train,
    wait_http,
    write_endpoints,
)

SECRET_NAMES = ("SECRET_KEY", "HANDOFF_API_TOKEN", "RASA_TOKEN", "HANDOFF_ADMIN_PASSWORD")
ADMIN_EMAIL = "admin@nordnet.example"


# --------------------------------------------------------------------------- local servers


def pg_bindir() -> Optional[Path]:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


@dataclass
class LocalPostgres:
    """A PostgreSQL cluster in a directory of ours (initdb on first use; data survives restarts)."""

    directory: Path
    port: int = 5433
    durable: bool = True  # fsync etc.; tests turn it off for speed
    _prefix: List[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bindir = pg_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql): initdb/pg_ctl not found")
        if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
            self._prefix = ["runuser", "-u", "postgres", "--"]

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def sockets(self) -> Path:
        return self.directory / "sock"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            self._prefix + list(args), capture_output=True, text=True, timeout=timeout, cwd=self.directory
        )

    def start(self) -> "LocalPostgres":
        self.directory.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        if self._prefix:
            for path in (self.directory, self.sockets):
                shutil.chown(path, "postgres")
            if subprocess.run(self._prefix + ["test", "-x", str(self.directory)]).returncode != 0:
                raise RuntimeError(f"the postgres user cannot reach {self.directory}; choose another --pg-dir")
        if not (self.data / "PG_VERSION").exists():
            log(f"creating a PostgreSQL cluster in {self.data} ...")
            result = self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                *([] if self.durable else ["--no-sync"]),
            )
            if result.returncode != 0:
                raise RuntimeError(f"initdb failed: {result.stderr.strip()[-500:]}")
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c max_connections=300"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        result = self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.directory / "postgres.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        if result.returncode != 0:
            tail = (
                (self.directory / "postgres.log").read_text()[-800:]
                if (self.directory / "postgres.log").exists()
                else ""
            )
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr.strip()[-300:]} {tail}")
        return self

    def create_database(self, name: str) -> None:
        psql = str(self.bindir / "psql")
        exists = self._run(
            psql,
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        )
        if exists.stdout.strip() != "1":
            result = self._run(
                psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c", f'CREATE DATABASE "{name}"'
            )
            if result.returncode != 0:
                raise RuntimeError(f"cannot create database {name}: {result.stderr.strip()}")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", timeout=60)

    def kill(self) -> None:
        """Crash it (SIGKILL to the postmaster): the fault tests use this."""
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().split()[0])
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        # The orphaned backends notice and exit; the dead postmaster may linger as a zombie when
        # nobody reaps it (pg_ctl daemonised it), which would make the next start refuse.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._backends_alive():
            time.sleep(0.2)
        if _dead_or_zombie(pid):
            pid_file.unlink(missing_ok=True)
            for stale in self.sockets.glob(f".s.PGSQL.{self.port}*"):
                stale.unlink(missing_ok=True)

    def _backends_alive(self) -> bool:
        marker = str(self.data).encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or _dead_or_zombie(int(proc.name)):
                continue
            try:
                environ_or_cmd = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"postgres" in environ_or_cmd and (marker in environ_or_cmd or b"postgres:" in environ_or_cmd):
                if self._belongs_to_us(proc):
                    return True
        return False

    def _belongs_to_us(self, proc: Path) -> bool:
        try:
            return os.readlink(proc / "cwd") in (str(self.data), str(self.directory))
        except OSError:
            return False


def _dead_or_zombie(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return any(line.startswith("State:") and "Z" in line.split()[1] for line in status.splitlines())


@dataclass
class LocalRedis:
    directory: Path
    port: int = 6380
    process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "LocalRedis":
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("Redis is not installed (apt-get install redis-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=open(self.directory / "redis.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.directory / 'redis.log'}")
            if self.ping():
                return self
            time.sleep(0.1)
        raise RuntimeError("redis-server did not answer within 20 s")

    def ping(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# --------------------------------------------------------------------------- secrets


def fresh_secrets() -> Dict[str, str]:
    return {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}


def load_secrets(path: Path) -> Dict[str, str]:
    """Secrets from the environment; missing ones from `path` (created with random values if absent)."""
    missing = [name for name in SECRET_NAMES if not os.environ.get(name)]
    values = {name: os.environ[name] for name in SECRET_NAMES if os.environ.get(name)}
    if not missing:
        return values
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{k}={v}\n" for k, v in fresh_secrets().items()))
        path.chmod(0o600)
        log(f"created {path} with random secrets (keep it private; delete it to rotate them)")
    stored = dict(
        line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#")
    )
    for name in missing:
        if not stored.get(name):
            raise SystemExit(f"{name} is not set in the environment nor in {path}")
        values[name] = stored[name].strip()
    return values


# --------------------------------------------------------------------------- the stack


@dataclass
class ProdStack:
    """Everything of the production shape, on loopback ports."""

    proxy_port: int = 5005
    rasa_ports: List[int] = field(default_factory=lambda: [5006, 5007])
    actions_port: int = 5055
    handoff_port: int = 8000
    handoff_workers: int = 2
    pg_port: int = 5433
    redis_port: int = 6380
    var_dir: Path = VAR / "prod"
    pg_dir: Optional[Path] = None
    durable: bool = True
    env: Dict[str, str] = field(default_factory=dict)
    log_dir: Optional[Path] = None
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)
    postgres: Optional[LocalPostgres] = None
    redis: Optional[LocalRedis] = None
    model: Optional[Path] = None

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def rasa_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    @property
    def handoff_url(self) -> str:
        return f"http://127.0.0.1:{self.handoff_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    @classmethod
    def on_free_ports(cls, var_dir: Path, env: Dict[str, str], rasa_servers: int = 2, **options) -> "ProdStack":
        """A stack for a test or a benchmark: every service on a free loopback port, state and logs under ``var_dir``."""
        return cls(
            proxy_port=free_port(),
            rasa_ports=[free_port() for _ in range(rasa_servers)],
            actions_port=free_port(),
            handoff_port=free_port(),
            pg_port=free_port(),
            redis_port=free_port(),
            var_dir=var_dir,
            env=dict(env),
            log_dir=var_dir / "logs",
            **options,
        )

    # -- infrastructure

    def start_infrastructure(self) -> None:
        given = {**os.environ, **self.env}
        if not (given.get("DATABASE_URL") and given.get("TRACKER_STORE_URL")):
            self.postgres = LocalPostgres(self.pg_dir or self.var_dir / "pg", self.pg_port, self.durable).start()
            for name in ("rasa", "handoff"):
                self.postgres.create_database(name)
            self.env.setdefault(
                "DATABASE_URL", self.postgres.url("handoff").replace("postgresql://", "postgresql+psycopg://")
            )
            self.env.setdefault("TRACKER_STORE_URL", self.postgres.url("rasa"))
        if not given.get("LOCK_STORE_URL"):
            self.redis = LocalRedis(self.var_dir / "redis", self.redis_port).start()
            self.env.setdefault("LOCK_STORE_URL", self.redis.url)

    def environment(self) -> Dict[str, str]:
        env = {**os.environ, **self.env}
        env["HANDOFF_ENV"] = "production"
        if env.get("SECRET_KEY") and not env.get("ACTION_SERVER_TOKEN"):  # Rasa -> action server (actions/server.py)
            env["ACTION_SERVER_TOKEN"] = hmac.new(
                env["SECRET_KEY"].encode(), b"action-server", hashlib.sha256
            ).hexdigest()
        env["SANIC_HOST"] = "127.0.0.1"
        env.setdefault("RASA_URL", self.proxy_url)
        env.setdefault("RASA_PUBLIC_URL", f"http://localhost:{self.proxy_port}")
        env.setdefault("HANDOFF_URL", self.handoff_url)
        env.setdefault("KB_INDEX_DIR", str(VAR / "kb_index"))
        env["PYTHONPATH"] = str(ROOT)
        env["HF_HUB_OFFLINE"] = "1"
        env = quiet(env)
        # The console runs on plain http on loopback here; behind TLS leave it on (the default).
        env.setdefault("HANDOFF_SECURE_COOKIES", "0")
        # Agents' replies reach a widget connected to the other Rasa server through Redis.
        if env.get("LOCK_STORE_URL"):
            env.setdefault("SOCKETIO_MESSAGE_QUEUE", env["LOCK_STORE_URL"])
        return env

    def _start(self, name: str, command: List[str], env: Dict[str, str]) -> subprocess.Popen:
        return start_process(self.processes, name, command, env, self.log_dir)

    # -- services (each can be started again after a fault test killed it)

    def start_handoff(self, env: Dict[str, str]) -> subprocess.Popen:
        return self._start(
            "handoff",
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "--config",
                str(ROOT / "handoff" / "gunicorn.conf.py"),
                "--workers",
                str(self.handoff_workers),
                "--bind",
                f"127.0.0.1:{self.handoff_port}",
                "handoff.wsgi:app",
            ],
            env,
        )

    def start_actions(self, env: Dict[str, str]) -> subprocess.Popen:
        return self._start(
            "actions",
            [str(PYTHON), "-m", "actions.server", "--actions", "actions", "--port", str(self.actions_port)],
            env,
        )

    def start_rasa(self, index: int, env: Dict[str, str]) -> subprocess.Popen:
        assert self.model is not None
        return self._start(
            f"rasa{index}",
            [
                *RASA_QUIET,
                "run",
                "--model",
                str(self.model),
                "--port",
                str(self.rasa_ports[index]),
                "--enable-api",
                f"--auth-token={env['RASA_TOKEN']}",
                "--cors",
                "*",  # "=": a token may start with "-"
                "--credentials",
                "credentials.yml",
                "--endpoints",
                str(self.var_dir / "endpoints.yml"),
            ],
            env,
        )

    @property
    def nginx(self) -> NginxConfig:
        return NginxConfig(
            f"127.0.0.1:{self.proxy_port}", [f"127.0.0.1:{port}" for port in self.rasa_ports], self.var_dir / "nginx"
        )

    def start_nginx(self, env: Dict[str, str]) -> subprocess.Popen:
        config = self.nginx
        config.write()
        config.check()
        return self._start("nginx", config.command(), env)

    def wait(self, name: str, timeout: float = 240.0) -> None:
        urls = {"handoff": f"{self.handoff_url}/health", "actions": f"{self.actions_url}/health"}
        for index, port in enumerate(self.rasa_ports):
            urls[f"rasa{index}"] = f"http://127.0.0.1:{port}/"
        urls["nginx"] = f"{self.proxy_url}/"
        wait_http(urls[name], timeout, self.processes.get(name))

    def restart(self, name: str, timeout: float = 240.0) -> None:
        env = self.environment()
        if name == "handoff":
            self.start_handoff(env)
        elif name == "actions":
            self.start_actions(env)
        elif name.startswith("rasa"):
            self.start_rasa(int(name[4:]), env)
        elif name == "nginx":
            self.start_nginx(env)
        self.wait(name, timeout)

    def kill(self, name: str) -> None:
        """SIGKILL a service's whole process group (a crash, not a shutdown)."""
        process = self.processes.get(name)
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def start(self, model: Path, timeout: float = 300.0) -> "ProdStack":
        self.model = model
        try:
            self.start_infrastructure()
            env = self.environment()
            write_endpoints(
                self.var_dir / "endpoints.yml",
                f"{self.actions_url}/webhook",
                env["TRACKER_STORE_URL"],
                env["LOCK_STORE_URL"],
                self.var_dir / "unused.db",
                env.get("ACTION_SERVER_TOKEN", ""),
            )
            subprocess.run(
                [str(PYTHON), "-m", "handoff", "migrate"],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL if self.log_dir else None,
            )
            self.ensure_admin(env)
            self.start_handoff(env)
            self.start_actions(env)
            for index in range(len(self.rasa_ports)):
                self.start_rasa(index, env)
            self.start_nginx(env)
            for name in ["handoff", "actions", *(f"rasa{i}" for i in range(len(self.rasa_ports))), "nginx"]:
                self.wait(name, timeout)
            Stack(actions_port=self.actions_port)._warm_up(env.get("ACTION_SERVER_TOKEN"))
        except BaseException:
            self.stop()
            raise
        return self

    def ensure_admin(self, env: Dict[str, str]) -> None:
        """An admin account with HANDOFF_ADMIN_PASSWORD (production mode has no demo accounts)."""
        result = subprocess.run(
            [
                str(PYTHON),
                "-m",
                "handoff",
                "create-agent",
                "--email",
                ADMIN_EMAIL,
                "--name",
                "Admin",
                "--role",
                "admin",
                "--password-env",
                "HANDOFF_ADMIN_PASSWORD",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 and "exists" not in (result.stdout + result.stderr).lower():
            raise RuntimeError(f"cannot create the admin account: {(result.stderr or result.stdout).strip()[-400:]}")

    def stop(self, timeout: float = 20.0) -> None:
        stop_processes(self.processes, timeout)
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.stop()

    def __enter__(self) -> "ProdStack":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run(args: argparse.Namespace) -> None:
    values = load_secrets(args.secrets)
    os.environ.update(values)
    stack = ProdStack(
        proxy_port=args.port,
        rasa_ports=[args.port + 1 + i for i in range(args.rasa_servers)],
        handoff_workers=args.handoff_workers,
        var_dir=VAR / "prod",
        pg_dir=args.pg_dir,
        log_dir=VAR / "prod" / "logs",
    )
    build_kb(stack.environment())
    model = train()
    log(
        f"starting PostgreSQL, Redis, handoff ({args.handoff_workers} workers), actions, "
        f"{args.rasa_servers} Rasa servers and nginx (logs in var/prod/logs) ..."
    )

    def announce(seconds: float) -> str:
        env, nginx = stack.environment(), stack.nginx.directory
        return banner(
            f"NordNet FAQ bot (production shape) is up ({seconds:.0f} s)",
            [
                ("Demo page with the chat widget", f"http://localhost:{stack.handoff_port}/"),
                ("Agent console", f"http://localhost:{stack.handoff_port}/agent/"),
                ("    admin", f"{ADMIN_EMAIL} / HANDOFF_ADMIN_PASSWORD from {args.secrets}"),
                (
                    "Rasa through nginx",
                    f"{stack.proxy_url}/  -> {', '.join(f'127.0.0.1:{p}' for p in stack.rasa_ports)}",
                ),
                ("    nginx", f"config {nginx / 'nginx.conf'}, access log {nginx / 'access.log'}"),
                ("Tracker store", env["TRACKER_STORE_URL"]),
                ("Lock store", env["LOCK_STORE_URL"]),
                ("Handoff database", env["DATABASE_URL"].split("@")[-1]),
            ],
            [f"Logs: {stack.log_dir}/"],
        )

    run_until_stopped(stack, lambda: stack.start(model), announce)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.prod", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="start the production shape on this machine")
    run_parser.add_argument("--port", type=int, default=5005, help="nginx port; Rasa servers take the next ones")
    run_parser.add_argument("--rasa-servers", type=int, default=2)
    run_parser.add_argument("--handoff-workers", type=int, default=2)
    run_parser.add_argument("--secrets", type=Path, default=VAR / "prod" / "secrets.env")
    run_parser.add_argument(
        "--pg-dir", type=Path, default=None, help="PostgreSQL cluster directory (default var/prod/pg)"
    )
    commands.add_parser("secrets", help="print fresh random secrets (KEY=value lines)")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args)
    elif args.command == "secrets":
        for name, value in fresh_secrets().items():
            print(f"{name}={value}")


if __name__ == "__main__":
    main()
