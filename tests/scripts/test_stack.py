"""The `make run` machinery: retraining only on Rasa data changes, endpoints, refusing bad input."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from scripts.stack import PYTHON, RASA_INPUTS, ROOT, fingerprint, write_endpoints


def _copy_rasa_inputs(target: Path) -> None:
    for name in RASA_INPUTS + ["data/faq"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target / name)


def test_faq_changes_do_not_retrain_rasa_but_nlu_changes_do(tmp_path):
    _copy_rasa_inputs(tmp_path)
    before = fingerprint(root=tmp_path)

    with open(tmp_path / "data/faq/en.yml", "a", encoding="utf-8") as faq:
        faq.write("\n# an operator's edit\n")
    assert fingerprint(root=tmp_path) == before

    with open(tmp_path / "data/nlu/smalltalk.yml", "a", encoding="utf-8") as nlu:
        nlu.write("\n# a new example\n")
    assert fingerprint(root=tmp_path) != before


def test_endpoints_follow_the_environment(tmp_path):
    embedded = yaml.safe_load(
        write_endpoints(tmp_path / "a.yml", "http://127.0.0.1:5055/webhook", "", "", tmp_path / "t.db").read_text()
    )
    assert embedded == {
        "action_endpoint": {"url": "http://127.0.0.1:5055/webhook"},
        "tracker_store": {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "t.db")},
    }

    scaled = yaml.safe_load(
        write_endpoints(
            tmp_path / "b.yml",
            "http://actions:5055/webhook",
            "postgresql://rasa:secret@db.internal:5433/rasa",
            "redis://cache:6380/2",
            tmp_path / "t.db",
        ).read_text()
    )
    assert scaled["tracker_store"] == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 5433,
        "db": "rasa",
        "username": "rasa",
        "password": "secret",
    }
    assert scaled["lock_store"] == {"type": "redis", "url": "cache", "port": 6380, "db": 2}


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_broken_faq_stops_make_run_before_anything_starts(tmp_path):
    broken = tmp_path / "faq.yml"
    broken.write_text(
        "language: en\nentries:\n  - id: refund\n    questions:\n      - Where is my refund?\n    answer: ''\n",
        encoding="utf-8",
    )
    env = {**os.environ, "FAQ_PATH": str(broken), "KB_INDEX_DIR": str(tmp_path / "index"), "HF_HUB_OFFLINE": "1"}
    ports = ["--rasa-port", "0", "--actions-port", "0", "--handoff-port", "0"]
    result = subprocess.run(
        [str(PYTHON), "-m", "scripts.stack", "run", *ports],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert str(broken.name) in output and "refund" in output and "answer" in output
    assert "nothing was started" in output
    assert not (tmp_path / "index").exists()


def test_missing_python_310_says_how_to_get_one(tmp_path):
    result = subprocess.run(
        ["make", "-s", f"{tmp_path}/venv/.installed", f"VENV_RASA={tmp_path}/venv", "PY310=/nonexistent/python3.10"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Python 3.10 not found" in result.stderr and "pyenv install 3.10" in result.stderr


RUNNER = """
import os, sys
from scripts.stack import banner, run_until_stopped, start_process, stop_processes

class Processes:
    def __init__(self):
        self.processes = {}
    def stop(self):
        stop_processes(self.processes, 5)

stack = Processes()
def start():
%s
run_until_stopped(stack, start, lambda seconds: banner("Test stack is up", [("thing", "http://x/")]))
"""


def _runner(body: str) -> subprocess.Popen:
    """A Python process that runs scripts.stack.run_until_stopped over the processes `body` starts."""
    code = RUNNER % textwrap.indent(textwrap.dedent(body).strip(), "    ")
    return subprocess.Popen(
        [str(PYTHON), "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def test_the_run_loop_stops_everything_when_one_process_exits():
    runner = _runner("""
        start_process(stack.processes, "short", [sys.executable, "-c", "import time; time.sleep(0.5)"], os.environ, None)
        start_process(stack.processes, "long", [sys.executable, "-c", "import time; time.sleep(60)"], os.environ, None)
    """)
    output, _ = runner.communicate(timeout=30)
    assert runner.returncode == 0, output
    assert "Test stack is up" in output and "thing  http://x/" in output and "Press Ctrl-C" in output
    assert "short exited unexpectedly; stopping the rest" in output and output.rstrip().endswith("all stopped")


def test_sigterm_stops_the_run_loop_and_every_process():
    runner = _runner("""
        long = start_process(stack.processes, "long", [sys.executable, "-c", "import time; time.sleep(60)"],
                             os.environ, None)
        print("pid", long.pid, flush=True)
    """)
    child = int(runner.stdout.readline().split()[1])
    assert "Test stack is up" in "".join(runner.stdout.readline() for _ in range(3))
    runner.send_signal(signal.SIGTERM)
    output, _ = runner.communicate(timeout=30)
    assert "stopping ..." in output and "all stopped" in output
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_rasa_runs_without_the_libraries_deprecation_warnings_but_with_its_own():
    """scripts/rasa_quiet.py: what Rasa's imports warn about (pkg_resources, SQLAlchemy 1.4, pyparsing via
    matplotlib) is silenced even after Rasa configures its warnings; a plain UserWarning still shows."""
    code = textwrap.dedent("""
        import warnings
        import scripts.rasa_quiet
        from rasa.utils.common import configure_logging_and_warnings
        configure_logging_and_warnings()
        import rasa.shared.utils.validation, rasa.core.tracker_store
        class LibraryDeprecation(UserWarning, DeprecationWarning):  # pyparsing's kind
            pass
        warnings.warn("a library's deprecation", LibraryDeprecation)
        warnings.warn("something the user should see", UserWarning)
    """)
    done = subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "something the user should see" in done.stderr
    assert "DeprecationWarning" not in done.stderr and "a library's deprecation" not in done.stderr
