"""Dependencies point one way: the KB never imports Rasa or Flask, the handoff service never imports Rasa."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "knowledge_base": {"rasa", "rasa_sdk", "flask"},
    "handoff": {"rasa", "rasa_sdk"},
}


def imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value).split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_forbidden_frameworks(package):
    folder = ROOT / package
    if not folder.is_dir():
        pytest.skip(f"{package}/ does not exist yet")
    offenders = []
    for source in sorted(folder.rglob("*.py")):
        bad = imported_modules(source) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{source.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    assert not offenders, "\n".join(offenders)


def test_the_scanner_catches_a_forbidden_import(tmp_path):
    """Guards the guard: a forbidden import in any form is found."""
    source = tmp_path / "m.py"
    source.write_text("import os\nfrom rasa_sdk import Action\nimport flask.json\n"
                      "import importlib\nimportlib.import_module('rasa.core')\n")
    assert imported_modules(source) >= {"rasa_sdk", "flask", "rasa"}
