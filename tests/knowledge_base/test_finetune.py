"""`build --fine-tune`: the encoder tuned on the FAQ's own variants travels with the index."""

import json

import pytest

from knowledge_base import FAQError, Settings, build_index, load_entries, load_knowledge_base
from knowledge_base.build.finetune import texts_by_entry, wanted_by_default
from knowledge_base.types import Entry


def test_pairs_come_from_each_entrys_questions_and_answer(faq_dir):
    groups = texts_by_entry(load_entries(faq_dir))
    assert "Where is my order?" in groups["track-order"]
    assert "Wo ist meine Bestellung?" in groups["track-order"]  # translations are one entry
    assert all(len(texts) >= 2 for texts in groups.values())


@pytest.mark.slow
def test_fine_tuned_index_loads_records_it_and_answers(faq_dir, tmp_path):
    from knowledge_base.encoder import PACKAGED_MODEL_NAME, make_encoder

    # Fine-tuning trains a sentence-transformers model: the packaged MiniLM, configured by name.
    encode = make_encoder(PACKAGED_MODEL_NAME)
    settings = Settings(faq_path=faq_dir, index_dir=tmp_path / "index", model=PACKAGED_MODEL_NAME)
    manifest = build_index(
        load_entries(faq_dir),
        settings.index_dir,
        encode=encode,
        progress=False,
        options={"fine_tune": {"epochs": 1, "batch": 4}},
    )
    tuned = manifest["fine_tuned"]
    assert tuned["base_model"] == encode.model_name == manifest["model"]
    assert tuned["steps"] >= 10 and tuned["batch"] == 4
    assert json.loads((settings.index_dir / "manifest.json").read_text())["fine_tuned"] == tuned
    assert (settings.index_dir / "model" / "modules.json").is_file()
    assert (settings.index_dir / "encoder" / "encoder.onnx").is_file()
    kb = load_knowledge_base(settings)  # checks the base model against the configured one
    assert kb.search("How can I track my parcel?").hits[0].entry_id == "track-order"
    assert kb.search("Passwort vergessen").hits[0].entry_id == "reset-password"
    # Unrelated questions are still declined with the tuned encoder (its index moves the scope midpoint).
    assert kb.search("What is the capital of Mongolia?").band == "decline"
    assert kb.search("Wie hoch ist der Eiffelturm?").band == "decline"


def test_fine_tuning_needs_a_model_directory(faq_dir, tmp_path):
    import numpy as np

    def custom(texts, show_progress=False):
        return np.eye(8, dtype=np.float32)[[len(t) % 8 for t in texts]]

    with pytest.raises(FAQError, match="model directory"):
        build_index(
            load_entries(faq_dir), tmp_path / "index", encode=custom, progress=False, options={"fine_tune": True}
        )
    assert not list(tmp_path.glob(".index.tune-*"))


def test_the_default_encoder_refuses_fine_tuning_with_the_way_out(faq_dir, tmp_path, capsys):
    from knowledge_base.cli import main

    assert main(["build", "--faq", str(faq_dir), "--index-dir", str(tmp_path / "index"), "--fine-tune"]) != 0
    assert "KB_MODEL=all-MiniLM-L6-v2" in capsys.readouterr().err


def test_small_faqs_get_more_passes_than_large_ones():
    from knowledge_base.build.finetune import MAX_EPOCHS, default_epochs

    assert default_epochs(50) == MAX_EPOCHS
    assert default_epochs(100_000) == 1.0
    assert MAX_EPOCHS > default_epochs(1500) > default_epochs(4000) > 1.0


def _english_faq(entries: int, per_entry: int) -> list[Entry]:
    return [
        Entry(f"entry-{i}", "en", [f"question {j} of entry {i}" for j in range(per_entry)], f"Answer {i}.")
        for i in range(entries)
    ]


def test_a_default_build_tunes_the_packaged_english_encoder_on_large_faqs_only(encode):
    minilm = encode.monolingual  # what an English FAQ is indexed with by default (knowledge_base/e5.py)
    assert wanted_by_default(_english_faq(150, 14), minilm)  # 2,100 questions, 14 per entry (like CLINC150)
    assert not wanted_by_default(_english_faq(100, 15), minilm)  # 1,500: a small FAQ builds in seconds untuned
    assert not wanted_by_default(_english_faq(300, 7), minilm)  # 2,100 but 7 per entry: few variants to learn from
    assert not wanted_by_default(_english_faq(150, 14), encode)  # the bilingual default includes e5: not tunable

    def custom(texts, show_progress=False):
        raise AssertionError("not called")

    custom.model_dir = "/somewhere/else"
    assert not wanted_by_default(_english_faq(150, 14), custom)  # another model is tuned only when asked


def test_the_fine_tuning_setting_is_auto_on_or_off():
    assert Settings.from_env({}).build_options() == {"fine_tune": "auto"}
    assert Settings.from_env({"KB_FINE_TUNE": "OFF"}).build_options() == {"fine_tune": False}
    assert Settings.from_env({"KB_FINE_TUNE": "on"}).build_options() == {"fine_tune": True}
    with pytest.raises(FAQError, match="KB_FINE_TUNE='sometimes' must be one of auto, on, off"):
        Settings.from_env({"KB_FINE_TUNE": "sometimes"})


@pytest.mark.slow
def test_eval_of_a_large_english_faq_tunes_by_default_and_asks_the_tuned_encoder(
    faq_dir, tmp_path, capsys, monkeypatch, encode
):
    from knowledge_base.build import finetune
    from knowledge_base.cli import main

    # The demo's English file stands in for a large FAQ (the size rule lowered), tuned for the fewest steps.
    monkeypatch.setattr(finetune, "AUTO_MIN_QUESTIONS", 1)
    monkeypatch.setattr(finetune, "AUTO_MIN_QUESTIONS_PER_ENTRY", 1)
    monkeypatch.setattr(finetune, "TARGET_TEXTS", 1)
    monkeypatch.setattr("knowledge_base.cli.encoder_for", lambda settings: encode)
    queries = tmp_path / "q.csv"
    queries.write_text(
        "text,label\nwhere is my parcel,track-order\nI forgot my password and cannot log in,reset-password\n"
        "what is the capital of Mongolia,oos\n",
        encoding="utf-8",
    )
    english = faq_dir / "en.yml"
    assert main(["eval", "--faq", str(english), "--queries", str(queries), "--json"]) == 0
    tuned = json.loads(capsys.readouterr().out)
    assert tuned["fine_tuned"] is True and tuned["build_seconds"] > 0
    assert tuned["top1_accuracy"] == 1.0 and tuned["in_scope_accuracy"] == 1.0 and tuned["oos_recall"] == 1.0
    assert main(["eval", "--faq", str(english), "--queries", str(queries), "--json", "--no-fine-tune"]) == 0
    assert json.loads(capsys.readouterr().out)["fine_tuned"] is False


@pytest.mark.slow
def test_a_running_knowledge_base_asks_the_encoder_of_each_rebuilt_index(faq_dir, tmp_path, encode):
    english = faq_dir / "en.yml"
    settings = Settings(faq_path=english, index_dir=tmp_path / "index", check_sources=False)
    entries = load_entries(english)
    build_index(entries, settings.index_dir, encode=encode, progress=False)  # small: not tuned
    running = load_knowledge_base(settings)  # as the action server loads it: the index's own encoder
    question = "How can I follow my parcel?"
    before = running.search(question).hits[0]
    # The FAQ grew past the size a default build tunes at (here: asked for), and was rebuilt under it.
    build_index(entries, settings.index_dir, encode=encode, progress=False, options={"fine_tune": {"batch": 4}})
    assert running.reload_if_changed() is True
    after = running.search(question).hits[0]
    fresh = load_knowledge_base(settings).search(question).hits[0]
    assert after.entry_id == fresh.entry_id == "track-order"
    assert after.score == pytest.approx(fresh.score, abs=1e-6)  # the tuned encoder's vector, not the old one's
    assert after.score != pytest.approx(before.score, abs=1e-3)
    build_index(entries, settings.index_dir, encode=encode, progress=False)  # and back: the untuned encoder again
    assert running.reload_if_changed() is True
    assert running.search(question).hits[0].score == pytest.approx(before.score, abs=1e-6)
