"""What the deployment tests read: the manifests, the compose file, the Dockerfiles, .env.example."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

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

