"""The ONNX encoder: same vectors and ranking as the torch model, stored with the index, used for queries."""

import json
import os

import numpy as np
import pytest

from knowledge_base import Settings, build_index, load_entries, load_knowledge_base
from knowledge_base.encoder import PACKAGED_MODEL_NAME

pytest.importorskip("onnxruntime")

TEXTS = [
    "How do I change my delivery address?",
    "Wo bleibt mein Paket?",
    "hi",
    "my card payment was declined twice although there is money on the account, what now?",
]


@pytest.fixture(scope="module")
def encode():
    """These tests are about running a sentence-transformers model on ONNX: the packaged MiniLM alone."""
    from knowledge_base.encoder import make_encoder

    return make_encoder(PACKAGED_MODEL_NAME)


@pytest.fixture(scope="module")
def torch_encode():
    from knowledge_base.encoder import make_encoder

    return make_encoder(PACKAGED_MODEL_NAME, runtime="torch")


def test_onnx_vectors_match_torch_and_rank_the_same(encode, torch_encode):
    assert encode.runtime == "onnx-fp32"
    onnx_vectors, torch_vectors = encode(TEXTS), torch_encode(TEXTS)
    assert onnx_vectors.dtype == np.float32 and onnx_vectors.shape == torch_vectors.shape
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(onnx_vectors * torch_vectors, axis=1)) > 0.9999
    # one text at a time (the query path, no padding) gives the same vectors as a padded batch
    one_by_one = np.concatenate([encode([t]) for t in TEXTS])
    assert np.allclose(one_by_one, onnx_vectors, atol=1e-5)
    similarities_onnx = onnx_vectors @ onnx_vectors.T
    similarities_torch = torch_vectors @ torch_vectors.T
    assert (np.argsort(-similarities_onnx, axis=1) == np.argsort(-similarities_torch, axis=1)).all()


def test_index_keeps_its_onnx_encoder_and_queries_use_it(faq_dir, tmp_path, encode, torch_encode):
    settings = Settings(faq_path=faq_dir, index_dir=tmp_path / "index", model=PACKAGED_MODEL_NAME)
    manifest = build_index(load_entries(faq_dir), settings.index_dir, encode=encode, progress=False)
    assert manifest["encoder"] == {"runtime": "onnx-fp32", "folder": "encoder"}
    assert (settings.index_dir / "encoder" / "encoder.onnx").is_file()
    assert json.loads((settings.index_dir / "manifest.json").read_text())["encoder"]["folder"] == "encoder"
    kb = load_knowledge_base(settings)  # no encode given: the action server's way
    result = kb.search("How can I track my parcel?")
    assert kb._encode.runtime == "onnx-fp32"
    assert result.hits[0].entry_id == "track-order"
    expected = torch_encode(["How can I track my parcel?"])[0]
    stored = settings.index_dir / "vectors.npy"
    assert np.load(stored).shape[1] == expected.shape[0]
    reference = load_knowledge_base(settings, encode=torch_encode).search("How can I track my parcel?")
    assert [h.entry_id for h in result.hits] == [h.entry_id for h in reference.hits]
    assert result.hits[0].score == pytest.approx(reference.hits[0].score, abs=1e-4)


def test_repeated_query_is_encoded_once(kb):
    calls = []
    inner = kb._encode

    def counting(texts, show_progress=False):
        calls.append(list(texts))
        return inner(texts)

    kb._encode = counting
    first = kb.search("Where is my order?")
    second = kb.search("Where is my order?")
    assert calls == [["Where is my order?"]]
    assert [h.entry_id for h in first.hits] == [h.entry_id for h in second.hits]


def test_torch_runtime_still_builds_and_loads(faq_dir, tmp_path, torch_encode):
    settings = Settings(faq_path=faq_dir, index_dir=tmp_path / "index", model=PACKAGED_MODEL_NAME)
    manifest = build_index(load_entries(faq_dir), settings.index_dir, encode=torch_encode, progress=False)
    assert manifest["encoder"] == {"runtime": "torch"}
    assert not (settings.index_dir / "encoder").exists()
    kb = load_knowledge_base(settings)
    assert kb.search("Passwort vergessen").hits[0].entry_id == "reset-password"
    assert kb._encode.runtime == "torch"


def test_encoder_setting_chooses_the_runtime(monkeypatch):
    from knowledge_base import FAQError
    from knowledge_base.build.indexer import encoder_for
    from knowledge_base.cli import _parser

    assert Settings.from_env({"KB_ENCODER": "onnx-int8"}).encoder == "onnx-int8"
    with pytest.raises(FAQError, match="KB_ENCODER"):
        Settings.from_env({"KB_ENCODER": "tensorflow"})
    assert encoder_for(Settings(model=PACKAGED_MODEL_NAME, encoder="torch")).runtime == "torch"
    args = _parser().parse_args(["build", "--encoder", "onnx-int8", "--fine-tune", "--epochs", "2"])
    assert (args.encoder, args.fine_tune, args.epochs) == ("onnx-int8", True, 2.0)


def test_cli_default_encoder_is_quantised_onnx_and_ranks_like_torch(torch_encode):
    from knowledge_base.build.indexer import encoder_for

    quantised = encoder_for(Settings(model=PACKAGED_MODEL_NAME))
    assert quantised.runtime == "onnx-int8"
    vectors, reference = quantised(TEXTS), torch_encode(TEXTS)
    assert np.min(np.sum(vectors * reference, axis=1)) > 0.95
    assert (np.argmax(vectors @ reference.T, axis=1) == np.arange(len(TEXTS))).all()


def test_a_model_int8_cannot_carry_falls_back_to_exact_onnx_and_is_not_exported_again(
    tmp_path, monkeypatch, caplog, encode
):
    import shutil

    from knowledge_base.build import onnx_export
    from knowledge_base.encoder import make_encoder, resolve_model_dir
    from knowledge_base.types import FAQError

    model_dir = resolve_model_dir(None)
    exact = onnx_export.exported_encoder(model_dir, "fp32")  # the session's export
    monkeypatch.setenv("KB_ENCODER_CACHE", str(tmp_path))
    shutil.copytree(exact, tmp_path / exact.name)
    # A model whose int8 vectors stray too far (all-mpnet-base-v2: cosine 0.82) stands in as an
    # impossible agreement threshold; the int8 export itself runs for real.
    monkeypatch.setitem(onnx_export.MIN_COSINE, "int8", 1.01)
    with caplog.at_level("WARNING"):
        fallback = make_encoder(PACKAGED_MODEL_NAME, runtime="auto", variant="int8")
    assert fallback.runtime == "onnx-fp32"
    assert "int8 ONNX export disagrees with the model" in caplog.text and "falling back to exact ONNX" in caplog.text
    assert "--encoder onnx runs the exact export" in caplog.text and "--encoder torch" not in caplog.text
    assert np.min(np.sum(fallback(TEXTS) * encode(TEXTS), axis=1)) > 0.9999

    def no_second_export(*args, **kwargs):
        raise AssertionError("a refused export is not tried again")

    monkeypatch.setattr(onnx_export, "export", no_second_export)
    with pytest.raises(FAQError, match="disagrees with the model"):
        make_encoder(
            PACKAGED_MODEL_NAME, runtime="onnx", variant="int8"
        )  # asked for int8 explicitly: the reason, no fallback
    assert make_encoder(PACKAGED_MODEL_NAME, runtime="auto", variant="int8").runtime == "onnx-fp32"


def test_answering_runs_on_the_serving_path_alone(faq_dir, tmp_path, encode):
    """A process that only answers (the action server) loads no build code and no sentence-transformers model."""
    import subprocess
    import sys

    settings = Settings(faq_path=faq_dir, index_dir=tmp_path / "index", model=PACKAGED_MODEL_NAME)
    build_index(load_entries(faq_dir), settings.index_dir, encode=encode, progress=False)
    script = (
        "import json, sys\n"
        "from knowledge_base import Settings, load_knowledge_base\n"
        f"settings = Settings(faq_path={str(faq_dir)!r}, index_dir={str(settings.index_dir)!r}, model={PACKAGED_MODEL_NAME!r})\n"
        "hit = load_knowledge_base(settings).search('How can I track my parcel?').hits[0].entry_id\n"
        "print(json.dumps({'hit': hit, 'modules': sorted(sys.modules)}))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout.strip().splitlines()[-1])
    assert found["hit"] == "track-order"
    loaded = set(found["modules"])
    build_only = {
        f"knowledge_base.build.{name}" for name in ("training", "finetune", "onnx_export", "fetch", "evaluate")
    }
    assert not loaded & (build_only | {"sentence_transformers"})
