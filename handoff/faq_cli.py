"""`python -m handoff faq export|import`: the FAQ files as the import/export format of the published changes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _session():
    from handoff.db import Signals, make_engine, make_session_factory
    from handoff.settings import Settings

    engine = make_engine(Settings.from_env().database_url)
    return engine, make_session_factory(engine, Signals())()


def _faq_path(args: argparse.Namespace) -> Path:
    if args.faq:
        return Path(args.faq)
    from knowledge_base import Settings

    return Path(Settings.from_env().faq_path)


def cmd_export(args: argparse.Namespace) -> int:
    """Write the FAQ (the files with every published change applied) to a new folder."""
    from knowledge_base import FAQError

    from handoff.services.errors import ServiceError
    from handoff.services.faq_feed import export_faq

    engine, session = _session()
    try:
        with session:
            changed = export_faq(session, _faq_path(args), Path(args.out))
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except FAQError as exc:
        print(f"error: the FAQ does not load, nothing was exported completely:\n{exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"exported the FAQ to {args.out} ({changed} entries changed by publishing)", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Publish what the FAQ files say differently from the last published state (every replica follows)."""
    from knowledge_base import FAQError

    from handoff.services.faq_feed import import_faq

    engine, session = _session()
    try:
        with session:
            changes = import_faq(session, _faq_path(args), "cli:import", retire_missing=args.retire_missing)
    except FAQError as exc:
        print(f"error: the FAQ does not load, nothing was published:\n{exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    counts = {action: sum(c.action == action for c in changes) for action in ("create", "update", "retire")}
    print("published " + ", ".join(f"{n} {a}" for a, n in counts.items()), file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    """Register `faq export` and `faq import` on the service's command parser."""
    faq = sub.add_parser("faq", help="export the published FAQ to files, or publish the files' changes")
    faq_sub = faq.add_subparsers(dest="faq_command", required=True)
    export = faq_sub.add_parser("export", help="the FAQ files with every published change applied, into a new folder")
    export.add_argument("out", help="a new or empty folder")
    export.add_argument("--faq", help="the FAQ file or folder to start from (default: $FAQ_PATH)")
    export.set_defaults(func=cmd_export)
    imported = faq_sub.add_parser("import", help="publish the entries the FAQ files hold differently (hand edits)")
    imported.add_argument("--faq", help="the FAQ file or folder (default: $FAQ_PATH)")
    imported.add_argument(
        "--retire-missing", action="store_true", help="also retire published entries the files no longer hold"
    )
    imported.set_defaults(func=cmd_import)
