"""Known-vulnerability audit of everything we ship: both Python environments and the widget's npm lock.

    python -m scripts.audit            # report; exit 1 on an advisory not in security/audit-allowlist.toml
    AUDIT_REQUIRED=1 python -m scripts.audit   # also exit 2 when an advisory database cannot be reached

pip-audit (PyPI's per-release JSON, or OSV) checks `pip freeze` of .venv (Python 3.11) and .venv-rasa
(Python 3.10: its pins are read, pip-audit itself stays out of Rasa's environment); `npm audit` checks
web/package-lock.json. An advisory that does not apply goes into security/audit-allowlist.toml with
its reason. A machine that reaches only package indexes (no advisory endpoints) gets a loud
"could not audit" and, unless AUDIT_REQUIRED=1, no failure: nothing was checked, and it says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / "security" / "audit-allowlist.toml"
ENVIRONMENTS = {"python 3.11 (.venv)": ROOT / ".venv", "python 3.10 (.venv-rasa)": ROOT / ".venv-rasa"}


@dataclass
class Finding:
    source: str
    package: str
    version: str
    advisory: str
    fix: str = ""


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    allowed: list[Finding] = field(default_factory=list)
    audited: dict[str, int] = field(default_factory=dict)
    unaudited: dict[str, str] = field(default_factory=dict)  # source -> why


def allowed_ids(path: Path = ALLOWLIST) -> dict[str, str]:
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("ignore", []) if path.exists() else []
    for entry in entries:
        if not str(entry.get("reason", "")).strip():
            raise SystemExit(f"{path}: {entry.get('id')} has no reason; every exception needs one")
    return {str(entry["id"]): str(entry["reason"]) for entry in entries}


def read_pip_audit(source: str, document: dict, allow: dict[str, str], report: Report) -> None:
    """Fold pip-audit's JSON (``-f json``) into the report."""
    dependencies = document.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    report.audited[source] = len(dependencies) - len(skipped)
    if dependencies and len(skipped) == len(dependencies):
        report.unaudited[source] = f"no package could be looked up ({skipped[0]['skip_reason']})"
    for dependency in dependencies:
        for vuln in dependency.get("vulns", []):
            ids = [vuln["id"], *vuln.get("aliases", [])]
            finding = Finding(
                source,
                dependency["name"],
                dependency.get("version", ""),
                vuln["id"],
                ", ".join(vuln.get("fix_versions", [])),
            )
            (report.allowed if any(i in allow for i in ids) else report.findings).append(finding)


def read_npm_audit(document: dict, allow: dict[str, str], report: Report) -> None:
    """Fold ``npm audit --json`` (npm 7+) into the report."""
    if "error" in document or "vulnerabilities" not in document:
        report.unaudited["npm (web/package-lock.json)"] = str(
            document.get("error", {}).get("summary") or document.get("message") or "no answer"
        )[:200]
        return
    report.audited["npm (web/package-lock.json)"] = document.get("metadata", {}).get("dependencies", {}).get("total", 0)
    for name, entry in document["vulnerabilities"].items():
        for via in entry.get("via", []):
            if not isinstance(via, dict):
                continue  # a dependency path; the advisory is reported on the package itself
            advisory = str(via.get("url", "")).rsplit("/", 1)[-1] or str(via.get("source"))
            finding = Finding("npm", name, str(entry.get("range", "")), advisory)
            (report.allowed if advisory in allow else report.findings).append(finding)


def run_pip_audit(venv: Path) -> dict:
    frozen = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pins = "\n".join(line for line in frozen.splitlines() if "==" in line)
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as requirements:
        requirements.write(pins)
        requirements.flush()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip_audit",
                "-r",
                requirements.name,
                "--no-deps",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "-f",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    return json.loads(done.stdout or "{}")


def run_npm_audit() -> dict:
    try:
        done = subprocess.run(
            ["npm", "audit", "--package-lock-only", "--json"],
            cwd=ROOT / "web",
            capture_output=True,
            text=True,
            timeout=300,
        )
    except FileNotFoundError:
        return {"error": {"summary": "npm not installed"}}
    return json.loads(done.stdout or "{}")


def audit() -> Report:
    allow = allowed_ids()
    report = Report()
    for source, venv in ENVIRONMENTS.items():
        if (venv / "bin" / "python").exists():
            read_pip_audit(source, run_pip_audit(venv), allow, report)
        else:
            report.unaudited[source] = "environment not installed"
    read_npm_audit(run_npm_audit(), allow, report)
    return report


def main() -> int:
    report = audit()
    for source, count in report.audited.items():
        print(f"audited {count:4d} packages: {source}")
    for finding in report.allowed:
        print(f"allowed  {finding.advisory} in {finding.package} {finding.version} ({finding.source})")
    for finding in report.findings:
        fix = f"; fixed in {finding.fix}" if finding.fix else ""
        print(f"VULNERABLE {finding.package} {finding.version}: {finding.advisory}{fix} ({finding.source})")
    for source, why in report.unaudited.items():
        print(f"COULD NOT AUDIT {source}: {why}")
    if report.findings:
        print(f"{len(report.findings)} advisories: upgrade, or add them with a reason to {ALLOWLIST.relative_to(ROOT)}")
        return 1
    if report.unaudited and os.environ.get("AUDIT_REQUIRED") == "1":
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
