"""The `make run` machinery: retraining only on Rasa data changes, endpoints, refusing bad input."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

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
    embedded = yaml.safe_load(write_endpoints(tmp_path / "a.yml", "http://127.0.0.1:5055/webhook", "", "", tmp_path / "t.db").read_text())
    assert embedded == {
        "action_endpoint": {"url": "http://127.0.0.1:5055/webhook"},
        "tracker_store": {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "t.db")},
    }

    scaled = yaml.safe_load(
        write_endpoints(
            tmp_path / "b.yml", "http://actions:5055/webhook",
            "postgresql://rasa:secret@db.internal:5433/rasa", "redis://cache:6380/2", tmp_path / "t.db",
        ).read_text()
    )
    assert scaled["tracker_store"] == {
        "type": "SQL", "dialect": "postgresql", "url": "db.internal", "port": 5433, "db": "rasa",
        "username": "rasa", "password": "secret",
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
        [str(PYTHON), "-m", "scripts.stack", "run", *ports], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert str(broken.name) in output and "refund" in output and "answer" in output
    assert "nothing was started" in output
    assert not (tmp_path / "index").exists()


def test_missing_python_310_says_how_to_get_one(tmp_path):
    result = subprocess.run(
        ["make", "-s", f"{tmp_path}/venv/.installed", f"VENV_RASA={tmp_path}/venv", "PY310=/nonexistent/python3.10"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "Python 3.10 not found" in result.stderr and "pyenv install 3.10" in result.stderr
