"""Fixtures for the handoff service: real databases (SQLite, and PostgreSQL from Debian's packages),
the app with its test client, agents, and a local stand-in for Rasa's HTTP API."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, text
from sqlalchemy.exc import OperationalError

from handoff.app import create_app
from handoff.db import make_engine
from handoff.models import BusinessHours, utcnow
from handoff.schema import upgrade
from handoff.services.agents import AgentForm, create_agent
from handoff.services.hours import get_service_settings
from handoff.settings import Settings
from handoff.suggestions import Suggestion, Suggestions
from scripts.prod import pg_bindir

from tests.handoff.support import API_TOKEN, PASSWORD, FakeRasa, escalation_body, free_port

_PG_SKIP_REASONS: list[str] = []


def pytest_configure(config):
    config.addinivalue_line("markers", "postgresql: runs against a throwaway PostgreSQL cluster")
    config.addinivalue_line("markers", "browser: drives headless Chromium through Playwright")


def pytest_terminal_summary(terminalreporter):
    if _PG_SKIP_REASONS:
        terminalreporter.write_sep("!", "POSTGRESQL TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(f"PostgreSQL could not be started: {_PG_SKIP_REASONS[0]}", red=True, bold=True)
        terminalreporter.write_line("Install Debian's postgresql package (initdb, pg_ctl) to run them.", red=True)


# --- PostgreSQL ---------------------------------------------------------------------------------
@dataclass
class PostgresCluster:
    url: str | None = None
    reason: str = ""
    databases: itertools.count = field(default_factory=lambda: itertools.count(1))

    def admin_engine(self):
        return create_engine(self.url + "postgres", isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway cluster (initdb + pg_ctl, as the postgres user when running as root)."""
    bindir = pg_bindir()
    if bindir is None:
        cluster = PostgresCluster(reason="initdb/pg_ctl not found (apt-get install postgresql)")
        yield cluster
        return
    # Not under pytest's tmp dir: that is 0700 (and reset to it by any concurrent pytest run),
    # and the server runs as the postgres user, who must reach its data directory.
    base = Path(tempfile.mkdtemp(prefix="handoff-pg-"))
    data, sockets, log = base / "data", base / "sock", base / "postgres.log"
    sockets.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            yield PostgresCluster(reason="running as root and runuser is missing")
            return
        prefix = [runuser, "-u", "postgres", "--"]
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()

    def run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
        return subprocess.run(prefix + list(args), capture_output=True, text=True, timeout=timeout, cwd=base)

    started = False
    try:
        result = run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        )
        if result.returncode != 0:
            yield PostgresCluster(reason=f"initdb failed: {result.stderr.strip()[-500:]}")
            return
        options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            # autovacuum connecting to the template would make CREATE DATABASE ... TEMPLATE fail
            "-c autovacuum=off"
        )
        result = run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start")
        if result.returncode != 0:
            tail = log.read_text()[-500:] if log.exists() else ""
            yield PostgresCluster(reason=f"pg_ctl start failed: {result.stderr.strip()[-300:]} {tail}")
            return
        started = True
        yield PostgresCluster(url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/")
    except (OSError, subprocess.SubprocessError) as exc:
        yield PostgresCluster(reason=f"{exc.__class__.__name__}: {exc}")
    finally:
        if started:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop", timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_template(postgres_cluster):
    """A database at the migrations' head that each test copies (CREATE DATABASE ... TEMPLATE)."""
    if postgres_cluster.url is None:
        return postgres_cluster
    admin = postgres_cluster.admin_engine()
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS handoff_template"))
        connection.execute(text("CREATE DATABASE handoff_template"))
    engine = make_engine(postgres_cluster.url + "handoff_template")
    upgrade(engine)
    engine.dispose()
    admin.dispose()
    return postgres_cluster


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def require_postgres(cluster: PostgresCluster) -> None:
    if cluster.url is None:
        if os.environ.get("HANDOFF_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (HANDOFF_REQUIRE_POSTGRES=1) but: {cluster.reason}")
        if cluster.reason not in _PG_SKIP_REASONS:
            _PG_SKIP_REASONS.append(cluster.reason)
        pytest.skip(f"PostgreSQL NOT AVAILABLE: {cluster.reason}")


# --- databases and the app ------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request):
    """A fresh database at the migrations' head for this test alone."""
    if backend == "sqlite":
        target = tmp_path / "handoff.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    cluster = request.getfixturevalue("postgres_template")
    require_postgres(cluster)
    name = f"handoff_test_{os.getpid()}_{next(cluster.databases)}"
    admin = cluster.admin_engine()
    for attempt in range(20):
        try:
            with admin.connect() as connection:
                connection.execute(text(f"CREATE DATABASE {name} TEMPLATE handoff_template"))
            break
        except OperationalError:  # "source database is being accessed by other users": retry
            if attempt == 19:
                raise
            time.sleep(0.25)
    yield cluster.url + name
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


class FakeSuggestions:
    """Stands in for the knowledge base: answers from a fixed list, records the queries."""

    def __init__(self):
        self.queries: list[tuple[str, str | None]] = []

    def warm_up(self) -> None:
        pass

    def search(self, text: str, language: str | None = None, k: int = 3) -> Suggestions:
        self.queries.append((text, language))
        return Suggestions(
            "ok", [Suggestion("order-status", "Where is my order?", "Track it under <b>Orders</b>.", 0.82)]
        )


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        environment="test",
        api_token=API_TOKEN,
        rasa_url="http://127.0.0.1:9",  # nothing listens: tests that deliver pass their own transport
        demo_agents=False,
    )


@pytest.fixture
def app(settings):
    app = create_app(settings, suggestions=FakeSuggestions())
    app.config["TESTING"] = True
    yield app
    app.extensions["handoff"].shutdown()


@pytest.fixture
def state(app):
    return app.extensions["handoff"]


@pytest.fixture
def session(state):
    with state.session_factory() as session:
        yield session


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """The bot's view: JSON requests with the bearer token."""

    def __init__(self, client):
        self.client = client
        self.headers = {"Authorization": f"Bearer {API_TOKEN}"}
        self.keys = itertools.count(1)

    def post(self, path: str, body=None, **kwargs):
        return self.client.post(f"/api{path}", json=body, headers=self.headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.client.get(f"/api{path}", headers=self.headers, **kwargs)

    def escalate(self, **overrides) -> dict:
        body = escalation_body(f"esc-{next(self.keys)}", **overrides)
        response = self.post("/escalations", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture
def open_hours(session):
    """Open around the clock, so tests do not depend on the time of day they run at."""
    get_service_settings(session)
    session.execute(delete(BusinessHours))
    for weekday in range(7):
        session.add(BusinessHours(weekday=weekday, opens_minute=0, closes_minute=1440))
    session.commit()


@pytest.fixture
def make_agent(state):
    """Create an agent (online and just seen, unless told otherwise)."""
    counter = itertools.count(1)

    def factory(
        name: str | None = None,
        role: str = "agent",
        languages=("de", "en"),
        capacity: int = 3,
        online: bool = True,
        email: str | None = None,
    ):
        number = next(counter)
        with state.session_factory() as session:
            agent = create_agent(
                session,
                AgentForm(
                    email=email or f"agent{number}@example.com",
                    display_name=name or f"Agent {number}",
                    role=role,
                    languages=tuple(languages),
                    capacity=capacity,
                ),
                PASSWORD,
            )
            if online:
                agent.presence, agent.last_seen_at = "online", utcnow()
                session.commit()
            return agent

    return factory


@pytest.fixture
def fake_rasa():
    rasa = FakeRasa().start()
    yield rasa
    rasa.stop()
