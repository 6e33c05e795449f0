"""bot/resilience.py's patches to Rasa are installed in one place: when a channel is guarded, not on import."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from scripts.stack import ROOT

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
SCRIPT = """
import json
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import FailSafeTrackerStore
before = (RemoteAction.run, FailSafeTrackerStore.retrieve)
import bot.channels, bot.messenger, bot.resilience
imported = (RemoteAction.run, FailSafeTrackerStore.retrieve)

async def handler(message):
    return None

bot.channels.RestInput().blueprint(handler)
guarded = (RemoteAction.run, FailSafeTrackerStore.retrieve)
print(json.dumps({"import_patched": imported != before, "guard_patched": [g != b for g, b in zip(guarded, before)]}))
"""


@pytest.mark.slow
def test_importing_the_channels_patches_nothing_guarding_one_installs_the_patches():
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment comes with `make test`")
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"import_patched": False, "guard_patched": [True, True]}
