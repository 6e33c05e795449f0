"""deploy/compose.yaml against the Compose specification, its start order, and its nginx front door run for real."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from scripts.stack import free_port
from tests.deploy.files import COMPOSE, DEPLOY, DOCKERFILES, ROOT
from tests.stand_in import StandInServer

BUILT = {"migrate", "handoff", "actions", "rasa1", "rasa2"}
EXTERNAL_IMAGE = re.compile(r"^(postgres|redis|nginx):\d+\.\d+(\.\d+)?-bookworm$")


def load() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def check_compose_spec(path: Path) -> subprocess.CompletedProcess:
    """check-jsonschema with the Compose specification's schema it ships (no network)."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", "--no-cache", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_file_follows_the_compose_specification():
    result = check_compose_spec(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "service, key, value",
    [
        ("handoff", "depends_on", {"migrate": {"condition": "service_finished"}}),  # no such condition
        ("nginx", "healthcheck", {"test": ["CMD", "true"], "intervall": "5s"}),
        ("rasa1", "restart", 3),
        ("actions", "envfile", "secrets.env"),  # a misspelt key
    ],
)
def test_the_specification_check_rejects_a_broken_file(tmp_path, service, key, value):
    broken = copy.deepcopy(load())
    broken["services"][service][key] = value
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = check_compose_spec(path)
    assert result.returncode != 0
    assert f"$.services.{service}" in result.stdout


def test_services_start_in_order_and_only_when_healthy():
    services = load()["services"]

    def waits_for(name: str) -> dict:
        return {other: rule["condition"] for other, rule in services[name]["depends_on"].items()}

    assert waits_for("migrate") == {"postgres": "service_healthy"}
    assert waits_for("handoff") == {"migrate": "service_completed_successfully", "postgres": "service_healthy"}
    assert waits_for("actions") == {"handoff": "service_healthy"}
    for rasa in ("rasa1", "rasa2"):
        assert waits_for(rasa) == {
            "postgres": "service_healthy",
            "redis": "service_healthy",
            "actions": "service_healthy",
        }
    assert waits_for("nginx") == {"rasa1": "service_healthy", "rasa2": "service_healthy", "handoff": "service_healthy"}
    for name, service in services.items():
        if name != "migrate":
            assert service["healthcheck"]["test"], name


def test_images_are_built_here_or_pinned_and_only_nginx_is_published():
    services = load()["services"]
    for name, service in services.items():
        if name in BUILT:
            dockerfile = ROOT / service["build"]["dockerfile"]
            assert dockerfile in DOCKERFILES.values(), name
            target = service["build"].get("target")
            if target:
                assert re.search(rf"^FROM \S+ AS {target}$", dockerfile.read_text(), re.M), name
            assert service["build"]["context"] == ".."
            assert service["env_file"] == "secrets.env", name
        else:
            assert EXTERNAL_IMAGE.match(service["image"]), service["image"]
        assert ("ports" in service) == (name == "nginx"), name
        if name not in ("postgres", "redis"):
            assert service["read_only"] is True, name


def test_secrets_come_from_an_env_file_that_is_never_committed():
    assert "secrets.env" in (DEPLOY / ".gitignore").read_text().split()
    text = COMPOSE.read_text()
    for secret in ("SECRET_KEY", "HANDOFF_API_TOKEN", "RASA_TOKEN", "ACTION_SERVER_TOKEN", "WIDGET_SESSION_SECRET"):
        assert secret not in load()["x-config"], secret  # from secrets.env, not written into the compose file
    assert "${POSTGRES_PASSWORD:?" in text and "${REDIS_PASSWORD:?" in text  # refuses to start without them


def test_the_handoff_service_runs_the_images_command_on_a_writable_copy_of_the_faq():
    from dockerfile_parse import DockerfileParser

    handoff = load()["services"]["handoff"]
    script = handoff["command"][2]
    structure = DockerfileParser(str(DOCKERFILES["app"])).structure
    image_command = json.loads([i["value"] for i in structure if i["instruction"] == "CMD"][-1])
    assert script.endswith("exec " + " ".join(image_command))  # the same gunicorn as the image's own CMD
    writable = [mount.split(":")[0] for mount in handoff["tmpfs"]]
    for variable, image_path in (("FAQ_PATH", "/app/data/faq"), ("KB_INDEX_DIR", "/app/kb_index")):
        copy = handoff["environment"][variable]
        assert f"cp -R {image_path} {copy}" in script
        assert any(copy.startswith(mount + "/") for mount in writable), variable
        assert f"{variable}={image_path}" in DOCKERFILES["app"].read_text()  # where the image keeps them


# --------------------------------------------------------------------------- the nginx front door, for real


def local_config(directory: Path, ports: dict[str, int]) -> Path:
    """deploy/nginx/nginx.conf with the compose host names and ports replaced by this machine's."""
    text = (DEPLOY / "nginx" / "nginx.conf").read_text()
    replacements = {
        "rasa1:5005": f"127.0.0.1:{ports['rasa1']}",
        "rasa2:5005": f"127.0.0.1:{ports['rasa2']}",
        "handoff:8000": f"127.0.0.1:{ports['handoff']}",
        "listen 8080;": f"listen 127.0.0.1:{ports['public']};",
        "listen 8081;": f"listen 127.0.0.1:{ports['internal']};",
        "/tmp/": f"{directory}/",
    }
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx/nginx.conf no longer has {old!r}: update this test"
        text = text.replace(old, new)
    path = directory / "nginx.conf"
    path.write_text(text)
    return path


@pytest.fixture
def front_door(tmp_path):
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:  # `make test` installs it (make system-packages)
        pytest.skip("nginx is not installed")
    servers = {name: StandInServer(name) for name in ("rasa1", "rasa2", "handoff")}
    ports = {name: server.port for name, server in servers.items()} | {"public": free_port(), "internal": free_port()}
    config = local_config(tmp_path, ports)
    check = subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-e", "stderr", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [binary, "-p", str(tmp_path), "-e", "stderr", "-c", str(config), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    public, internal = f"http://127.0.0.1:{ports['public']}", f"http://127.0.0.1:{ports['internal']}"
    deadline = time.monotonic() + 15
    while True:
        try:
            requests.get(public + "/", timeout=1)
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"nginx did not start: {process.stderr.read().decode()[-800:]}")
            time.sleep(0.1)
    yield public, internal
    process.terminate()
    process.wait(10)
    for server in servers.values():
        server.close()


def test_front_door_publishes_the_channels_and_the_console_only(front_door):
    public, internal = front_door
    served = {}
    for path in ("/", "/?lang=de", "/agent/", "/agent/login", "/static/web/webchat/webchat.js"):
        response = requests.get(public + path, timeout=5)
        assert response.status_code == 200, path
        served[path] = response.json()["server"]
    assert set(served.values()) == {"handoff"}
    rest = [
        requests.post(public + "/webhooks/rest/webhook", json={"sender": "u1", "message": "hi"}, timeout=5).json()
        for _ in range(4)
    ]
    assert {r["server"] for r in rest} == {"rasa1", "rasa2"}  # round robin
    for path in (
        "/api/escalations",
        "/api/faq/changes",
        "/conversations/u1/tracker",
        "/model/parse",
        "/health",
        "/webhook",
    ):
        response = requests.get(public + path, timeout=5)
        assert response.status_code == 404, path
        assert response.json()["error"] == "Not Found"  # nginx's own JSON, no upstream reached


def test_front_door_keeps_a_socketio_client_on_one_server(front_door):
    public, _ = front_door
    servers = {
        requests.get(public + f"/socket.io/?EIO=4&transport=polling&t={i}", timeout=5).json()["server"]
        for i in range(6)
    }
    assert len(servers) == 1 and servers <= {"rasa1", "rasa2"}


def test_rasas_http_api_is_reachable_inside_the_compose_network_only(front_door):
    public, internal = front_door
    response = requests.get(internal + "/conversations/u1/tracker", timeout=5)
    assert response.status_code == 200 and response.json()["server"] in ("rasa1", "rasa2")
    assert requests.get(public + "/conversations/u1/tracker", timeout=5).status_code == 404
    ports = load()["services"]["nginx"]["ports"]
    assert ports == ["${HTTP_PORT:-8080}:8080"]  # 8081 is not published


def test_front_door_tells_the_services_who_the_client_is(front_door):
    """The handoff service's rate limits and audit log name the client from X-Forwarded-For
    (HANDOFF_TRUSTED_PROXIES=1): every location must pass it on, also those that set headers of their own."""
    public, _ = front_door
    host = public.removeprefix("http://")
    for path in (
        "/",
        "/agent/login",
        "/static/web/chat.js",
        "/socket.io/?EIO=4&transport=polling",
        "/webhooks/rest/webhook",
    ):
        headers = requests.get(public + path, headers={"X-Forwarded-For": "203.0.113.9"}, timeout=5).json()["headers"]
        assert headers["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1", path  # the client's own claim stays first
        assert headers["Host"] == host and headers["X-Forwarded-Proto"] == "http", path
    assert load()["x-config"]["HANDOFF_TRUSTED_PROXIES"] == "1"  # so the service believes only nginx's entry
