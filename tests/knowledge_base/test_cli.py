"""The command line: build, validate, query and eval as the contract describes."""

import json

import pytest

from knowledge_base.cli import main

QUERIES = """\
text,label
where is my parcel,track-order
how can I follow my order,track-order
I forgot my password and cannot log in,reset-password
I moved to a new flat,change-delivery-address
what is the capital of Mongolia,oos
how tall is mount everest,oos
"""


@pytest.fixture(autouse=True)
def use_session_model(monkeypatch, encode):
    """Make the CLI reuse the already loaded model instead of building another encoder."""
    monkeypatch.setattr("knowledge_base.cli.encoder_for", lambda settings: encode)


def test_build_then_query(faq_dir, tmp_path, capsys, monkeypatch):
    index = tmp_path / "idx"
    assert main(["build", "--faq", str(faq_dir), "--index-dir", str(index), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "7 entries (3 de, 4 en), 14 questions" in out and (index / "manifest.json").exists()
    monkeypatch.setenv("FAQ_PATH", str(faq_dir))
    monkeypatch.setenv("KB_INDEX_DIR", str(index))
    assert main(["query", "where is my parcel", "--json", "-k", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["band"] == "answer" and result["language"] == "en"
    assert [h["entry_id"] for h in result["hits"]][:1] == ["track-order"] and len(result["hits"]) == 2
    assert main(["query", "Wo ist mein Paket?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("band: answer") and "1. track-order [de]" in out


def test_build_of_broken_faq_exits_2_names_file_entry_problem_and_writes_nothing(tmp_path, capsys):
    faq = tmp_path / "faq.yml"
    faq.write_text("language: en\nentries:\n  - id: refunds\n    questions: ['Refund?']\n    answer: ''\n")
    index = tmp_path / "idx"
    assert main(["build", "--faq", str(faq), "--index-dir", str(index)]) == 2
    err = capsys.readouterr().err
    assert f"{faq}:3: entry 'refunds': missing or empty answer" in err
    assert not index.exists()
    assert main(["validate", "--faq", str(faq)]) == 2


def test_validate_ok(faq_dir, capsys):
    assert main(["validate", "--faq", str(faq_dir)]) == 0
    assert "OK, 2 file(s), 7 entries, 14 questions" in capsys.readouterr().out


def test_eval_json_has_the_contract_figures(faq_dir, tmp_path, capsys):
    queries = tmp_path / "q.csv"
    queries.write_text(QUERIES, encoding="utf-8")
    assert main(["eval", "--faq", str(faq_dir), "--queries", str(queries), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["n"] == 6
    assert figures["top1_accuracy"] == 1.0 and figures["top3_accuracy"] == 1.0
    assert figures["oos_recall"] == 1.0
    assert figures["in_scope_accuracy"] == 1.0
    assert 0 < figures["answer_rate"] <= 1.0 and figures["answered_precision"] == 1.0
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert figures["fine_tuned"] is False  # a small FAQ is not tuned by default (test_finetune.py)


def test_eval_oos_recall_is_null_without_oos_and_unknown_labels_refused(faq_dir, tmp_path, capsys):
    queries = tmp_path / "q.csv"
    queries.write_text("text,label\nwhere is my parcel,track-order\n", encoding="utf-8")
    assert main(["eval", "--faq", str(faq_dir), "--queries", str(queries), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["oos_recall"] is None
    queries.write_text("text,label\nwhere is my parcel,no-such-entry\n", encoding="utf-8")
    assert main(["eval", "--faq", str(faq_dir), "--queries", str(queries), "--json"]) == 2
    assert "labels not in the FAQ: no-such-entry" in capsys.readouterr().err


def test_help_on_every_command(capsys):
    for command in ([], ["build"], ["query"], ["validate"], ["eval"], ["calibrate"]):
        with pytest.raises(SystemExit) as done:
            main(command + ["--help"])
        assert done.value.code == 0
        assert "usage:" in capsys.readouterr().out


def test_calibrate_prints_thresholds_that_meet_the_precision(faq_dir, tmp_path, capsys):
    queries = tmp_path / "q.csv"
    queries.write_text(QUERIES, encoding="utf-8")
    assert main(["calibrate", "--faq", str(faq_dir), "--queries", str(queries), "--precision", "0.9", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0 < report["clarify_threshold"] <= report["answer_threshold"] <= 1
    assert report["after"]["answered_precision"] >= 0.9
    assert report["after"]["oos_recall"] == 1.0
    assert main(["calibrate", "--faq", str(faq_dir), "--queries", str(queries)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("KB_ANSWER_THRESHOLD=") and "\nKB_CLARIFY_THRESHOLD=" in out


def test_build_if_changed_keeps_a_current_index_and_rebuilds_a_stale_one(faq_dir, tmp_path, capsys):
    index = tmp_path / "idx"
    args = ["build", "--faq", str(faq_dir), "--index-dir", str(index), "--no-progress", "--if-changed"]
    assert main(args) == 0
    first = json.loads((index / "manifest.json").read_text())["build_id"]
    capsys.readouterr()

    assert main(args) == 0
    assert "up to date" in capsys.readouterr().out
    assert json.loads((index / "manifest.json").read_text())["build_id"] == first

    source = sorted(faq_dir.glob("*.yml"))[0]
    source.write_text(source.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert main(args) == 0
    assert "up to date" not in capsys.readouterr().out
    assert json.loads((index / "manifest.json").read_text())["build_id"] != first
