"""nginx in front of the Rasa servers (scripts/nginx.py + nginx.conf.j2): the real nginx against two
small HTTP servers standing in for Rasa (the production tests run it in front of real ones)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from scripts.nginx import NginxConfig, nginx_binary
from scripts.stack import free_port
from tests.stand_in import StandInServer

try:
    nginx_binary()
except RuntimeError:  # `make test` installs it (make system-packages)
    pytest.skip("nginx is not installed", allow_module_level=True)


@pytest.fixture
def upstreams():
    servers = [StandInServer("a"), StandInServer("b")]
    yield servers
    for server in servers:
        try:
            server.close()
        except OSError:
            pass


@pytest.fixture
def nginx():
    """Start nginx for a list of upstream ports; yields a starter returning (base URL, config)."""
    base = Path(tempfile.mkdtemp(prefix="nordnet-nginx-"))
    base.chmod(0o755)  # run as root, nginx runs as www-data and must reach its directory
    started: list[subprocess.Popen] = []

    def start(ports: list[int], **limits: str) -> tuple[str, NginxConfig]:
        port = free_port()
        config = NginxConfig(f"127.0.0.1:{port}", [f"127.0.0.1:{p}" for p in ports], base / "nginx", **limits)
        config.write()
        config.check()
        process = subprocess.Popen(
            config.command(), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        started.append(process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read().decode()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return f"http://127.0.0.1:{port}", config
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("nginx did not listen")

    yield start
    for process in started:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    shutil.rmtree(base, ignore_errors=True)


def test_requests_alternate_between_servers_and_bodies_arrive_whole(upstreams, nginx):
    url, _ = nginx([u.port for u in upstreams])
    with requests.Session() as session:  # keep-alive from the client does not pin a server
        answers = [
            session.post(f"{url}/webhooks/rest/webhook", data=f"message {i} " + "x" * 100_000).json() for i in range(6)
        ]
    assert sorted(a["server"] for a in answers) == ["a"] * 3 + ["b"] * 3
    assert all(answers[i]["server"] != answers[i + 1]["server"] for i in range(5))
    assert all(a["echo"] == f"message {i} " + "x" * 100_000 for i, a in enumerate(answers))
    forwarded = upstreams[0].seen[0][2]
    assert forwarded["X-Forwarded-For"] == "127.0.0.1" and forwarded["X-Real-IP"] == "127.0.0.1"


def test_a_dead_server_is_skipped_and_none_alive_is_a_json_502(upstreams, nginx):
    url, _ = nginx([u.port for u in upstreams] + [free_port()])  # the third never existed
    answers = [requests.post(f"{url}/webhooks/rest/webhook", data="hi", timeout=10) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6
    assert {a.json()["server"] for a in answers} == {"a", "b"}

    for upstream in upstreams:
        upstream.close()
    response = requests.post(f"{url}/webhooks/rest/webhook", data="hi", timeout=10)
    assert response.status_code == 502 and response.headers["Content-Type"] == "application/json"
    assert "no Rasa server answered" in response.json()["message"]


def test_a_server_dying_mid_request_is_a_json_502_and_the_message_is_not_sent_twice(upstreams, nginx):
    url, _ = nginx([u.port for u in upstreams])
    response = requests.post(f"{url}/die", data="my message", timeout=10)
    assert response.status_code == 502
    assert "may not have been processed" in response.json()["message"]
    assert sum(path == "/die" for u in upstreams for path, _, _ in u.seen) == 1


def test_a_slow_reply_is_a_json_504(upstreams, nginx):
    url, _ = nginx([u.port for u in upstreams], read_timeout="1s")
    response = requests.post(f"{url}/slow", data="hi", timeout=10)
    assert response.status_code == 504 and "took too long" in response.json()["message"]


def test_oversized_bodies_and_headers_are_refused_with_json(upstreams, nginx):
    url, _ = nginx([u.port for u in upstreams])
    too_big = requests.post(f"{url}/webhooks/rest/webhook", data="x" * (1024 * 1024 + 1), timeout=10)
    assert too_big.status_code == 413 and "larger than 1m" in too_big.json()["message"]
    huge_header = requests.get(f"{url}/", headers={"X-Junk": "y" * 20_000}, timeout=10)
    assert huge_header.status_code == 400 and "headers are too large" in huge_header.json()["message"]
    assert not any(u.seen for u in upstreams)


def test_the_access_log_has_no_query_strings(upstreams, nginx):
    url, config = nginx([u.port for u in upstreams])
    requests.get(f"{url}/conversations/someone/tracker", params={"token": "s3cret-token"}, timeout=10)
    log, deadline = "", time.monotonic() + 5
    while "/conversations/someone/tracker" not in log and time.monotonic() < deadline:  # written after the reply
        time.sleep(0.05)
        log = (config.directory / "access.log").read_text()
    assert "/conversations/someone/tracker" in log and "s3cret" not in log
    assert any("s3cret" in path for u in upstreams for path, _, _ in u.seen)  # the server still gets it


def _socketio_server(url: str, client_address: str, upgrade: bool = False) -> str:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(client_address, 0))
    headers = {"Upgrade": "websocket", "Connection": "Upgrade"} if upgrade else {}
    connection.request("GET", "/socket.io/?EIO=4&transport=polling", headers=headers)
    server = json.loads(connection.getresponse().read())["server"]
    connection.close()
    return server


def test_socketio_sticks_to_one_server_per_client_address_and_passes_upgrades(upstreams, nginx):
    url, _ = nginx([u.port for u in upstreams])
    clients = [f"127.0.0.{i}" for i in range(1, 21)]
    first = {client: _socketio_server(url, client) for client in clients}
    assert all(_socketio_server(url, client) == first[client] for client in clients for _ in range(3))
    assert set(first.values()) == {"a", "b"}  # different customers are spread over both servers

    _socketio_server(url, "127.0.0.1", upgrade=True)
    headers = next(h for u in upstreams for _, _, h in reversed(u.seen) if h.get("Upgrade"))
    assert headers["Upgrade"] == "websocket" and headers["Connection"].lower() == "upgrade"


def _status(url: str, client_address: str, path: str = "/webhooks/rest/webhook") -> tuple[int, bytes, dict]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(client_address, 0))
    connection.request(
        "POST", path, body=b'{"sender": "x", "message": "hi"}', headers={"Content-Type": "application/json"}
    )
    response = connection.getresponse()
    result = response.status, response.read(), dict(response.getheaders())
    connection.close()
    return result


def test_each_client_address_is_rate_limited_with_a_json_429_and_others_are_not(upstreams, nginx):
    url, _ = nginx([u.port for u in upstreams], rate_per_address="1r/s", burst=5)
    flood = [_status(url, "127.0.0.9") for _ in range(12)]
    statuses = [status for status, _, _ in flood]
    assert statuses[:6] == [200] * 6 and statuses[-1] == 429  # the burst passes, then the address waits
    status, body, headers = flood[-1]
    assert json.loads(body)["error"] == "Too Many Requests" and headers["Retry-After"] == "1"
    assert _status(url, "127.0.0.10")[0] == 200  # another customer is not affected
    assert [_status(url, "127.0.0.1")[0] for _ in range(12)] == [200] * 12  # this machine is exempt


def test_socketio_requests_carry_the_client_address_on(upstreams, nginx):
    url, _ = nginx([u.port for u in upstreams])
    _socketio_server(url, "127.0.0.7")
    headers = next(h for u in upstreams for path, _, h in reversed(u.seen) if path.startswith("/socket.io/"))
    assert headers["X-Forwarded-For"] == "127.0.0.7" and headers["X-Real-IP"] == "127.0.0.7"
    assert headers["Host"].startswith("127.0.0.1:")
