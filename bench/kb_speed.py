"""Speed on this machine: build time, memory and query latency (model loaded) for 10k and 100k questions.

The bases are made of real questions (Banking77 + CLINC150 training texts; beyond those, pairs of
them joined into longer questions), 10 questions per entry. Queries are 300 CLINC150 validation
questions, encoded for real one at a time (no cache). For the larger base the approximate (IVF)
index is compared with exact search: recall of the exact top-10 rows and latency.

Encoding 100k texts takes most of a build and, on a shared 2-core machine, far longer than a
benchmark run should; so the base's vectors come from the vector cache (real model vectors for
the dataset texts; for joined pairs the normalised mean of the two parts' vectors), the encoding
throughput is measured on 1,000 texts for real, and build_s_estimated = the rest of the build,
measured, + encoding time at that throughput. Queries are always encoded for real.
The build part runs at the priority it is started with (start it under `nice`), the query part is
raised back to normal priority (when allowed) and reports the machine's load average next to it.
Usage: nice -n 19 .venv/bin/python bench/kb_speed.py [--sizes 10000 100000] [--queries 300]
(KB_ENCODER=onnx-int8 or torch in the environment measures queries with that encoder, KB_MODEL=DIR another model.)
Each size runs in its own process so that the memory figure is its own.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import SEED, banking77, clinc150, show


def questions(n: int) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """n questions, and for the joined ones the two texts they were joined from."""
    base = list(dict.fromkeys([t for t, _ in banking77()] + [t for t, _ in clinc150()["train"]]))
    rng = random.Random(SEED)
    out, seen, parts = base[:n], set(base[:n]), {}
    while len(out) < n:
        a, b = rng.choice(base), rng.choice(base)
        text = f"{a.rstrip('?.! ')} and {b}"
        if text not in seen:
            seen.add(text)
            out.append(text)
            parts[text] = (a, b)
    return out, parts


class BaseVectors:
    """Vectors for the synthetic base without encoding 100k texts (see the module docstring)."""

    def __init__(self, parts, model_name, model=None):
        from common import REPO, CachedEncoder

        # the packaged model's fp32 vectors whatever KB_ENCODER says: only the query path is being timed with it
        if model:  # KB_MODEL: the other benches' cache of that model (its vectors as KB_ENCODER encodes them)
            self.cache = CachedEncoder(model=model)
        else:
            self.cache = CachedEncoder(REPO / "var" / "bench_cache" / f"{model_name}.npz")
        self.parts = parts
        self.model_name = model_name
        self.seconds_faked = 0.0

    def __call__(self, texts):
        import numpy as np

        out = []
        for text in texts:
            if text in self.parts:
                a, b = self.cache([self.parts[text][0]])[0], self.cache([self.parts[text][1]])[0]
                vector = a + b
                out.append(vector / np.linalg.norm(vector))
            else:
                out.append(self.cache([text])[0])
        return np.stack(out).astype(np.float32)


def run_size(size: int, n_queries: int, ann: bool) -> dict:
    import numpy as np
    import yaml

    from knowledge_base import Settings, build_index, load_entries, load_knowledge_base
    from common import encoder

    texts, parts = questions(size)
    entries = [{"id": f"e{i}", "questions": texts[i : i + 10], "answer": texts[i]} for i in range(0, len(texts), 10)]
    queries = [t for t, _ in clinc150()["val"]][::7][:n_queries]
    with tempfile.TemporaryDirectory() as tmp:
        faq = Path(tmp) / "faq.yml"
        faq.write_text(yaml.safe_dump({"language": "en", "entries": entries}, width=1000), encoding="utf-8")
        model = os.environ.get("KB_MODEL") or None
        encode = encoder(model)  # KB_ENCODER=onnx-int8 measures the quantised encoder, KB_MODEL another model
        encode(["warm up"])
        sample = texts[-1000:]
        started = time.perf_counter()
        for start in range(0, len(sample), 256):
            encode(sample[start : start + 256])
        throughput = len(sample) / (time.perf_counter() - started)
        base_vectors = BaseVectors(parts, encode.model_name, model)
        base_vectors.cache.warm([t for pair in parts.values() for t in pair] + [t for t in texts if t not in parts])
        settings = Settings(faq_path=faq, index_dir=Path(tmp) / "index", check_sources=False)
        started = time.perf_counter()
        manifest = build_index(
            load_entries(faq),
            settings.index_dir,
            encode=base_vectors,
            progress=True,
            options={"ann_min_rows": 1 if ann else 10**12},
        )
        build_s = time.perf_counter() - started
        kb = load_knowledge_base(settings, encode=encode)
        warm_up = [t for t, _ in clinc150()["val"]][1::7][:20]  # not among the timed queries
        for q in warm_up:
            kb.search(q)
        figures = {
            "questions": size,
            "entries": len(entries),
            "rows": manifest["rows"],
            "components": manifest["components"],
            "query_encoder": getattr(encode, "runtime", "custom"),
            "build_s_without_encoding": round(build_s, 1),
            "encode_texts_per_s": round(throughput, 1),
            "build_s_estimated": round(build_s + manifest["rows"] / throughput, 1),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
        indexes = {"exact": kb.state.index}
        if ann:
            import faiss

            state = kb.state
            exact = faiss.IndexFlatIP(state.vectors.shape[1])
            exact.add(state.vectors)
            indexes = {"ann": state.index, "exact": exact}
            qv = encode(queries)
            _, truth = exact.search(qv, 10)
            _, approx = state.index.search(qv, 10)
            figures["ann"] = manifest["ann"]
            figures["ann_recall_at_10"] = round(
                float(np.mean([len(set(a) & set(t)) / 10 for a, t in zip(approx, truth)])), 4
            )
            figures["ann_recall_at_1"] = round(float(np.mean(approx[:, 0] == truth[:, 0])), 4)
        latency_priority()
        figures["load_before_queries"] = os.getloadavg()[0]
        for name, index in indexes.items():
            kb.state.index = index
            kb.clear_query_cache()  # every timed query is encoded for real
            timings, encode_ms = [], []
            for q in queries:
                t0 = time.perf_counter()
                encode([q])
                t1 = time.perf_counter()
                kb.search(q)
                timings.append((time.perf_counter() - t1) * 1000)
                encode_ms.append((t1 - t0) * 1000)
            figures[f"{name}_query_p50_ms"] = round(float(np.percentile(timings, 50)), 2)
            figures[f"{name}_query_p95_ms"] = round(float(np.percentile(timings, 95)), 2)
            figures[f"{name}_encode_only_p50_ms"] = round(float(np.percentile(encode_ms, 50)), 2)
        figures["load_after_queries"] = os.getloadavg()[0]
        return figures


def latency_priority() -> None:
    """The build runs niced (shared machine); the short query phase at normal priority, as a server would."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except OSError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--ann", action="store_true", help="force the approximate index (child process flag)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_size(args.sizes[0], args.queries, args.ann)))
        return
    for size in args.sizes:
        ann = args.ann or size >= 50_000
        command = [sys.executable, __file__, "--child", "--sizes", str(size), "--queries", str(args.queries)]
        done = subprocess.run(command + (["--ann"] if ann else []), stdout=subprocess.PIPE, text=True, check=True)
        show(
            f"{size} questions (query = search incl. encoding, model loaded)",
            json.loads(done.stdout.strip().splitlines()[-1]),
        )


if __name__ == "__main__":
    main()
