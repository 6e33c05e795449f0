"""What the deployment tests read: the manifests, the compose file, the Dockerfiles, .env.example."""

from __future__ import annotations

import fnmatch
import re
import shutil
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILES = {"rasa": DEPLOY / "rasa.Dockerfile", "app": DEPLOY / "app.Dockerfile"}


def manifest_files() -> list[Path]:
    """Every Kubernetes manifest (kustomization.yaml is kustomize's own file, not a resource)."""
    return sorted(p for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")


def load_manifests() -> list[dict]:
    documents = []
    for path in manifest_files():
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document:
                document.setdefault("metadata", {})["_file"] = path.name
                documents.append(document)
    return documents


def without_test_keys(document: dict) -> dict:
    metadata = {k: v for k, v in document["metadata"].items() if not k.startswith("_")}
    return {**document, "metadata": metadata}


def env_file_names(path: Path) -> list[str]:
    """Variable names of a KEY=value file (comments and blank lines skipped)."""
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line.strip())
        if match:
            names.append(match.group(1))
    return names


def kinds(documents: list[dict], kind: str) -> list[dict]:
    return [d for d in documents if d["kind"] == kind]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def containers(workload: dict, init: bool = True) -> list[dict]:
    spec = pod_spec(workload)
    return list(spec.get("containers", [])) + (list(spec.get("initContainers", [])) if init else [])


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str) -> bool:
    """Docker's rules, as far as our .dockerignore uses them: the last matching pattern decides."""
    verdict = False
    for pattern in dockerignore_patterns():
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if pattern.startswith("**/"):
            matched = any(fnmatch.fnmatch(part, pattern[3:]) for part in parts)
        else:
            matched = any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes)
        if matched:
            verdict = not negate
    return verdict


def stage_chain(dockerfile: Path, target: str) -> list[tuple[str, list[dict]]]:
    """The stages an image is made of, base first: (name, instructions) down to `target`."""
    stages: dict[str, tuple[str, list[dict]]] = {}
    current = None
    for instruction in DockerfileParser(str(dockerfile)).structure:
        if instruction["instruction"] == "FROM":
            words = instruction["value"].split()
            current = words[-1] if len(words) == 3 and words[1].upper() == "AS" else words[0]
            stages[current] = (words[0], [])
        elif current is not None and instruction["instruction"] != "COMMENT":
            stages[current][1].append(instruction)
    chain = []
    name = target
    while name in stages:
        parent, instructions = stages[name]
        chain.insert(0, (name, instructions))
        name = parent
    return chain


def _copy_context(source: str, destination: Path, into_directory: bool) -> None:
    """COPY from the build context: a directory's contents, or a file; .dockerignore applies."""
    path = ROOT / source
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            relative = file.relative_to(ROOT).as_posix()
            if not ignored(relative):
                target = destination / file.relative_to(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, target)
    elif not ignored(source):
        target = destination / path.name if into_directory else destination
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def assemble_image(dockerfile: Path, target: str, root: Path) -> list[str]:
    """Lay out under `root` what the image's COPY instructions take from this repository (a file system
    without a container engine); returns the COPY --from=... instructions left out (built artefacts)."""
    skipped = []
    workdir = Path("/")  # a stage starts in its parent stage's WORKDIR
    for _name, instructions in stage_chain(dockerfile, target):
        for instruction in instructions:
            if instruction["instruction"] == "WORKDIR":
                workdir = workdir / instruction["value"]
            if instruction["instruction"] != "COPY":
                continue
            if "--from=" in instruction["value"]:
                skipped.append(instruction["value"])
                continue
            words = [w for w in instruction["value"].split() if not w.startswith("--")]
            sources, destination = words[:-1], words[-1]
            into_directory = destination.endswith("/") or destination in (".", "./") or len(sources) > 1
            destination_path = root / (workdir / destination).relative_to("/")
            for source in sources:
                _copy_context(source, destination_path, into_directory)
    return skipped
