"""The encoder as ONNX, run with onnxruntime (exported at build time: :mod:`knowledge_base.build.onnx_export`).

One short query through torch costs 12-20 ms on this machine, mostly framework overhead; the same
graph through onnxruntime (single thread, fused attention/LayerNorm) costs a few ms, and the query
path then imports neither torch nor sentence-transformers.
"""

from __future__ import annotations

import json
from pathlib import Path

ONNX_FILE = "encoder.onnx"
META_FILE = "encoder.json"
TOKENIZER_FILE = "tokenizer.json"


def available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class OnnxEncoder:
    """``encode(texts) -> normalised float32 vectors`` over an exported encoder folder."""

    def __init__(self, folder, threads: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        self.folder = folder
        self.variant = meta["variant"]
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self.tokenizer.no_padding()  # some tokenizer.json files pad every text to 128 tokens
        self.tokenizer.enable_truncation(int(meta["max_seq_length"]))
        options = ort.SessionOptions()
        # One query gains nothing from intra-op threads, and spinning threads on a shared CPU cost a lot.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])

    def __call__(self, texts: list[str], show_progress: bool = False):
        import numpy as np

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.session.get_outputs()[0].shape[-1] or 0), np.float32)
        if len(texts) == 1:
            encodings = [self.tokenizer.encode(texts[0])]
        else:
            encodings = self.tokenizer.encode_batch(texts)
        # Sorting by length keeps padding (wasted work) small within a batch.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        chunks = {}
        for start in range(0, len(order), 64):
            part = order[start : start + 64]
            width = max(len(encodings[i].ids) for i in part)
            ids = np.zeros((len(part), width), np.int64)
            mask = np.zeros((len(part), width), np.int64)
            for row, i in enumerate(part):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            vectors = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            for row, i in enumerate(part):
                chunks[i] = vectors[row]
        out = np.stack([chunks[i] for i in range(len(texts))]).astype(np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)
        return np.ascontiguousarray(out)
