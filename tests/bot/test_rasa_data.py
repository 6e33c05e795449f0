"""Rasa's own checks on our training data and the conversation test stories (trained model)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from scripts.stack import RASA, ROOT, train

RASA_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def test_training_data_validates_cleanly():
    result = subprocess.run(
        [str(RASA), "data", "validate", "--data", "data/nlu", "data/rules", "data/stories",
         "--domain", "domain.yml", "--config", "config.yml", "--fail-on-warnings"],
        cwd=ROOT, env=RASA_ENV, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


@pytest.mark.slow
def test_conversation_stories_pass_in_both_languages(tmp_path):
    model = train()
    result = subprocess.run(
        [str(RASA), "test", "core", "--stories", "tests/stories", "--model", str(model),
         "--out", str(tmp_path), "--fail-on-prediction-errors"],
        cwd=ROOT, env=RASA_ENV, capture_output=True, text=True, timeout=900,
    )
    failed = (tmp_path / "failed_test_stories.yml")
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details[-6000:] or (result.stdout[-3000:] + result.stderr[-3000:])
    report = json.loads((tmp_path / "story_report.json").read_text())
    assert report["micro avg"]["f1-score"] == 1.0
