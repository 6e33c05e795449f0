"""What each image takes from this repository is enough to run its service.

No container engine here: the files are laid out as the Dockerfiles' COPY instructions say
(`assemble_image`, .dockerignore applied) and the services are started from that tree with this
machine's interpreters, which hold the same pinned dependency groups the images install. A module
the image lacks fails here as it would in the container.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from dockerfile_parse import DockerfileParser

from tests.deploy.files import DOCKERFILES, ROOT, assemble_image

VENV_BIN = Path(sys.executable).parent
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def image(tmp_path: Path, dockerfile: str, target: str) -> Path:
    """The image's /app, laid out under tmp_path/root."""
    root = tmp_path / "root"
    assemble_image(DOCKERFILES[dockerfile], target, root)
    return root / "app"


def image_env(app: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Only the image's tree on the import path; nothing of the repository's."""
    return {
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "PYTHONPATH": str(app),
        "HOME": str(tmp_path),
        "PYTHONNOUSERSITE": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "KB_ENCODER_CACHE": str(tmp_path / "encoders"),
        "FAQ_PATH": str(app / "data" / "faq"),
        **extra,
    }


def imported_from(python: Path | str, modules: list[str], app: Path, env: dict[str, str]) -> dict[str, str]:
    script = (
        "import importlib, json, sys\n"
        f"print(json.dumps({{m: importlib.import_module(m).__file__ for m in {modules!r}}}))"
    )
    result = subprocess.run([str(python), "-c", script], cwd=app, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    files = json.loads(result.stdout.strip().splitlines()[-1])
    for module, file in files.items():
        assert Path(file).is_relative_to(app), f"{module} came from {file}, not from the image"
    return files


def wait_for(url: str, process: subprocess.Popen, timeout: float = 120, **kwargs) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode}: {process.stdout.read().decode()[-2000:]}")
        try:
            return requests.get(url, timeout=10, **kwargs)
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still loading the app
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer in {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def image_command(target: str) -> list[str]:
    structure = DockerfileParser(str(DOCKERFILES["app"])).structure
    stage = None
    commands = {}
    for instruction in structure:
        if instruction["instruction"] == "FROM":
            stage = instruction["value"].split()[-1]
        elif instruction["instruction"] == "CMD":
            commands[stage] = json.loads(instruction["value"])
    return commands[target]


def test_handoff_image_migrates_and_serves_the_console_and_demo_page(tmp_path):
    app = image(tmp_path, "app", "handoff")
    env = image_env(
        app,
        tmp_path,
        HANDOFF_ENV="production",
        HANDOFF_DEMO_AGENTS="0",
        SECRET_KEY="k" * 40,
        HANDOFF_API_TOKEN="t" * 40,
        HANDOFF_ADMIN_PASSWORD="Correct-Horse-Battery-9",
        DATABASE_URL=f"sqlite:///{tmp_path / 'handoff.db'}",
        TRACKER_STORE_URL="memory",
        RASA_URL="http://127.0.0.1:9",
        KB_INDEX_DIR=str(tmp_path / "kb_index"),
        HANDOFF_SECURE_COOKIES="0",
        HANDOFF_WORKERS="1",
        PYTHON=sys.executable,
    )
    imported_from(
        sys.executable,
        ["handoff.wsgi", "handoff.cli", "handoff.i18n", "knowledge_base", "core.language"],
        app,
        {**env, "HANDOFF_START_WORKER": "0"},
    )
    migrate = subprocess.run(
        ["sh", str(tmp_path / "root" / "usr" / "local" / "bin" / "nordnet-migrate")],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    assert "created admin admin@nordnet.example" in migrate.stdout

    command = image_command("handoff")
    assert command[0] == "gunicorn"
    port = free_port()
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--worker-tmp-dir") + 1] = str(tmp_path)
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), *command[1:]],
        cwd=app,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        health = wait_for(f"http://127.0.0.1:{port}/health", process)
        assert health.status_code == 200 and health.json()["schema"] == "current"
        page = requests.get(f"http://127.0.0.1:{port}/?lang=en", timeout=10)
        assert page.status_code == 200 and "webchat" in page.text
        login = requests.get(f"http://127.0.0.1:{port}/agent/login", timeout=10)
        assert login.status_code == 200 and "password" in login.text.lower()
    finally:
        stop(process)


def test_actions_image_serves_every_custom_action_of_the_domain_to_rasa_only(tmp_path):
    app = image(tmp_path, "app", "actions")
    port = free_port()
    env = image_env(
        app,
        tmp_path,
        SANIC_HOST="127.0.0.1",
        ACTION_SERVER_TOKEN="a" * 40,
        HANDOFF_API_TOKEN="t" * 40,
        HANDOFF_URL="http://127.0.0.1:9",
        KB_INDEX_DIR=str(tmp_path / "kb_index"),
        KB_FOLLOW_SECONDS="0",
    )
    command = image_command("actions")
    command[command.index("--port") + 1] = str(port)
    process = subprocess.Popen(
        [sys.executable, *command[1:]],
        cwd=app,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/health", process).status_code == 200
        # No index in this tree: the worker's own warm-up cannot load one, so it never reports ready (no token needed).
        time.sleep(2)
        not_ready = requests.get(f"http://127.0.0.1:{port}/ready", timeout=10)
        assert not_ready.status_code == 503 and not_ready.json() == {"ready": False}
        assert requests.get(f"http://127.0.0.1:{port}/actions", timeout=10).status_code == 401
        listed = requests.get(f"http://127.0.0.1:{port}/actions", headers={"X-Action-Token": "a" * 40}, timeout=10)
        registered = {action["name"] for action in listed.json()}
    finally:
        stop(process)
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    custom = {name for name in domain["actions"] if name.startswith(("action_", "validate_"))}
    assert custom and custom <= registered, custom - registered


def test_actions_image_holds_the_nlu_examples_it_compares_questions_with(tmp_path):
    """Requests for a person by meaning and off-topic questions need the NLU examples (actions/requests.py); the
    image's build encodes them once into the cache the action server reads (KB_EXAMPLES_CACHE)."""
    app = image(tmp_path, "app", "actions")
    env = image_env(app, tmp_path)
    script = (
        "import json; from actions.requests import examples, other_company_names, question_examples\n"
        "found = examples()\n"
        "print(json.dumps({k: len(v) for k, v in found.items()} | {'questions': len(question_examples()),"
        " 'other_companies': len(other_company_names()),"
        " 'telephone_companies': len(other_company_names(key='telephone_companies'))}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=app, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["request_human"] > 50 and counts["request_callback"] > 50 and counts["questions"] > 1000, counts
    assert counts["other_companies"] > 50 and counts["telephone_companies"] > 10, counts  # data/other_companies.yml
    instructions = DockerfileParser(str(DOCKERFILES["app"])).structure
    actions_env = " ".join(i["value"] for i in instructions if i["instruction"] == "ENV")
    assert "KB_EXAMPLES_CACHE=/app/examples-cache" in actions_env
    assert any(i["instruction"] == "RUN" and "warm_cache('/app/kb_index')" in i["value"] for i in instructions), (
        "the build stage no longer encodes the examples"
    )


@pytest.mark.e2e
@pytest.mark.postgresql
def test_rasa_image_starts_from_its_entry_point_on_postgresql_and_redis(tmp_path):
    """deploy/rasa/start.py in the image's tree: endpoints from the environment, the real Rasa server with the
    trained model loading every component and channel config.yml and credentials.yml name, conversations in
    PostgreSQL, Redis as lock store, the HTTP API behind its token."""
    import tempfile

    from scripts.prod import LocalPostgres, LocalRedis, pg_bindir
    from scripts.stack import model_path

    if not RASA_PYTHON.exists() or not model_path().exists():
        pytest.skip("the Rasa environment and a trained model come with `make test`")
    if pg_bindir() is None:
        pytest.skip("PostgreSQL is not installed")
    app = image(tmp_path, "rasa", "rasa")
    (app / "models").mkdir()
    (app / "models" / "nordnet.tar.gz").symlink_to(model_path())  # the build stage's `rasa train`
    base = Path(tempfile.mkdtemp(prefix="deploy-rasa-"))
    base.chmod(0o755)  # the postgres user must reach its cluster directory
    postgres = LocalPostgres(base / "pg", port=free_port(), durable=False).start()
    redis = None
    process = None
    try:
        postgres.create_database("rasa")
        redis = LocalRedis(base / "redis", port=free_port()).start()
        port = free_port()
        (tmp_path / "tmp").mkdir()
        env = image_env(
            app,
            tmp_path,
            RASA_TOKEN="r" * 40,
            ACTION_SERVER_TOKEN="a" * 40,
            WIDGET_SESSION_SECRET="w" * 40,
            TRACKER_STORE_URL=postgres.url("rasa"),
            LOCK_STORE_URL=redis.url,
            SOCKETIO_MESSAGE_QUEUE=redis.url,
            ACTION_ENDPOINT_URL="http://127.0.0.1:9/webhook",
            RASA_PORT=str(port),
            TMPDIR=str(tmp_path / "tmp"),
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            MPLCONFIGDIR=str(tmp_path / "tmp"),
        )
        env["PATH"] = f"{RASA_PYTHON.parent}:/usr/bin:/bin"
        process = subprocess.Popen(
            [str(RASA_PYTHON), "deploy/rasa/start.py", "--interface", "127.0.0.1"],
            cwd=app,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        assert "Hello from Rasa" in wait_for(url + "/", process, timeout=300).text
        endpoints = json.loads((tmp_path / "tmp" / "endpoints.yml").read_text())
        assert endpoints["lock_store"]["type"] == "redis" and endpoints["tracker_store"]["dialect"] == "postgresql"
        replies = requests.post(
            url + "/webhooks/rest/webhook", json={"sender": "deploy-check", "message": "hello"}, timeout=60
        )
        assert replies.status_code == 200 and replies.json(), replies.text
        assert requests.get(url + "/conversations/deploy-check/tracker", timeout=10).status_code == 401
        tracker = requests.get(url + "/conversations/deploy-check/tracker", params={"token": "r" * 40}, timeout=10)
        assert any(e.get("event") == "user" and e.get("text") == "hello" for e in tracker.json()["events"])
        import psycopg

        with psycopg.connect(postgres.url("rasa")) as connection:
            stored = connection.execute("SELECT count(*) FROM events WHERE sender_id = 'deploy-check'").fetchone()[0]
        assert stored > 0
    finally:
        if process is not None:
            stop(process)
        if redis is not None:
            redis.stop()
        postgres.stop("immediate")
