"""The one environment reader: defaults for unset or empty variables, one named problem per bad value."""

from __future__ import annotations

import subprocess
from pathlib import Path

from core.env import Env

ROOT = Path(__file__).resolve().parents[2]


def test_unset_and_empty_variables_give_the_defaults_without_problems():
    env = Env({"EMPTY": "  "})
    assert env.text("UNSET", "d") == "d" and env.text("EMPTY") is None
    assert env.integer("EMPTY", 3) == 3 and env.number("UNSET", 0.5) == 0.5
    assert env.flag("UNSET", True) is True and env.words("EMPTY", ("de", "en")) == ("de", "en")
    assert env.choice("UNSET", "a", ("a", "b")) == "a" and env.problems == []


def test_values_are_read_trimmed_and_typed():
    env = Env({"T": " x ", "I": "42", "N": "0.25", "F": "off", "W": "DE, en,,", "C": "b"})
    assert env.text("T") == "x" and env.integer("I", 0) == 42 and env.number("N", 0.0, 0, 1) == 0.25
    assert env.flag("F", True) is False and env.words("W", ()) == ("de", "en")
    assert env.choice("C", "a", ("a", "b")) == "b" and env.problems == []


def test_every_bad_value_is_one_problem_naming_the_variable_and_the_default_stands_in():
    env = Env(
        {
            "I": "soon",
            "LOW": "1",
            "N": "much",
            "R": "1.5",
            "F": "maybe",
            "W": " , ",
            "C": "staging",
            "Z": "Mars/Olympus",
        }
    )
    assert env.integer("I", 7) == 7 and env.integer("LOW", 20, minimum=10) == 20
    assert env.number("N", 0.5) == 0.5 and env.number("R", 0.5, 0.0, 1.0) == 0.5
    assert env.flag("F", False) is False and env.words("W", ("en",), what="language") == ("en",)
    assert env.choice("C", "development", ("development", "production")) == "development"
    assert (
        env.checked(
            "Z", "Europe/Berlin", lambda name: "/" in name and name.startswith("Europe"), "is not a known time zone"
        )
        == "Europe/Berlin"
    )
    assert env.problems == [
        "I='soon' is not a whole number",
        "LOW=1 must be at least 10",
        "N='much' is not a number",
        "R='1.5' must be between 0 and 1",
        "F='maybe': use 1 or 0",
        "W names no language",
        "C='staging': use development or production",
        "Z='Mars/Olympus' is not a known time zone",
    ]


def test_the_rasa_environment_can_import_it():
    """core/ is shared with the Rasa server's Python 3.10, which has no pydantic 2 (Rasa pins 1.10)."""
    python = ROOT / ".venv-rasa" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", "from core.env import Env; print(Env({'A': '3'}).integer('A', 0))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.strip() == "3", done.stderr
