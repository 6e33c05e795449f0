"""docs/handoff-api.yaml describes exactly the routes the API serves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DOC = Path(__file__).resolve().parents[2] / "docs" / "handoff-api.yaml"


@pytest.fixture
def backend():
    return "sqlite"


def test_documented_paths_are_the_served_paths(app):
    spec = yaml.safe_load(DOC.read_text())
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api") :])
            served |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served


def test_every_reference_resolves():
    text = DOC.read_text()
    spec = yaml.safe_load(text)
    for ref in set(re.findall(r'\$ref: "#/components/(\w+)/(\w+)"', text)):
        assert ref[1] in spec["components"][ref[0]], ref
