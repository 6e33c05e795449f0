"""Building and research: what ``python -m knowledge_base build|eval|calibrate|fetch-model`` runs, never a query.

- :mod:`.indexer`: FAQ entries -> the index directory (encode, train the extras, write atomically);
- :mod:`.training`: the classifier, BM25 and language words learned at build time;
- :mod:`.finetune`: optional fine-tuning of the encoder on the FAQ's own questions;
- :mod:`.onnx_export`: the encoder exported to ONNX (and cached) for the query path;
- :mod:`.fetch`: larger encoders from the package index;
- :mod:`.evaluate`: measuring a knowledge base on labelled queries, choosing its thresholds.

The serving path (``knowledge_base.kb`` and what it imports) reads what these write.
"""
