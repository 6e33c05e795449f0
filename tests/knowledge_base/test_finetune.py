"""`build --fine-tune`: the encoder tuned on the FAQ's own variants travels with the index."""

import json

import pytest

from knowledge_base import FAQError, Settings, build_index, load_entries, load_knowledge_base
from knowledge_base.build.finetune import texts_by_entry


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
