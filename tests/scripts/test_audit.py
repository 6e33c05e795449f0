"""The known-vulnerability audit: how findings, the allow-list and unreachable databases are judged,
and a real run over both Python environments and the npm lock."""

from __future__ import annotations

import pytest

from scripts import audit

PIP_AUDIT_JSON = {  # the shape `pip-audit -f json` prints
    "dependencies": [
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": ["CVE-2024-22195"]}],
        },
        {
            "name": "requests",
            "version": "2.19.0",
            "vulns": [{"id": "PYSEC-2018-28", "fix_versions": ["2.20.0"], "aliases": ["CVE-2018-18074"]}],
        },
    ],
    "fixes": [],
}
NPM_AUDIT_JSON = {  # the shape `npm audit --json` prints (npm 7+)
    "vulnerabilities": {
        "nth-check": {
            "name": "nth-check",
            "range": "<2.0.1",
            "via": [{"source": 1095141, "url": "https://github.com/advisories/GHSA-rp65-9cf3-cjxr"}],
        },
        "css-select": {"name": "css-select", "range": "<=3.1.0", "via": ["nth-check"]},
    },
    "metadata": {"dependencies": {"total": 120}},
}


def test_findings_not_on_the_allow_list_fail_and_aliases_count():
    report = audit.Report()
    audit.read_pip_audit(".venv", PIP_AUDIT_JSON, {"CVE-2018-18074": "not reachable here"}, report)
    assert [(f.package, f.advisory, f.fix) for f in report.findings] == [("jinja2", "GHSA-h5c8-rqwp-cp95", "3.1.3")]
    assert [f.package for f in report.allowed] == ["requests"]
    assert report.audited == {".venv": 3} and report.unaudited == {}


def test_npm_advisories_are_read_once_per_package():
    report = audit.Report()
    audit.read_npm_audit(NPM_AUDIT_JSON, {}, report)
    assert [(f.package, f.advisory) for f in report.findings] == [("nth-check", "GHSA-rp65-9cf3-cjxr")]


def test_unreachable_databases_are_reported_as_not_audited():
    report = audit.Report()
    skipped = {"dependencies": [{"name": "flask", "version": "3.1.3", "skip_reason": "Dependency not found on PyPI"}]}
    audit.read_pip_audit(".venv", skipped, {}, report)
    audit.read_npm_audit({"error": {"summary": "405 Method Not Allowed"}}, {}, report)
    assert report.audited == {".venv": 0}
    assert set(report.unaudited) == {".venv", "npm (web/package-lock.json)"}


def test_an_exception_without_a_reason_is_refused(tmp_path):
    allowlist = tmp_path / "allow.toml"
    allowlist.write_text('[[ignore]]\nid = "GHSA-1"\npackage = "x"\nreason = ""\n')
    with pytest.raises(SystemExit, match="has no reason"):
        audit.allowed_ids(allowlist)
    assert audit.allowed_ids(audit.ALLOWLIST) is not None  # the committed list parses


def test_what_we_ship_has_no_unreviewed_known_vulnerability():
    report = audit.audit()
    if report.unaudited and not report.audited.get("python 3.11 (.venv)"):
        pytest.skip(
            "advisory databases unreachable from this machine: "
            + "; ".join(f"{source}: {why}" for source, why in report.unaudited.items())
        )
    assert report.findings == [], "upgrade, or add to security/audit-allowlist.toml with a reason"
