"""Command line: ``python -m handoff migrate | serve | create-agent | unlock-agent | privacy | make-migration``."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import threading

from core.env import Env

logger = logging.getLogger("handoff")


def _setup_logging() -> None:
    level = Env().text("HANDOFF_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _settings():
    from handoff.settings import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


def _describe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_migrate(_args: argparse.Namespace) -> int:
    """Upgrade the schema, create the service settings and (if enabled) the demo accounts."""
    from handoff.db import make_engine, make_session_factory, Signals
    from handoff.schema import upgrade
    from handoff.services.agents import ensure_account, password_matches
    from handoff.services.hours import get_service_settings

    settings = _settings()
    engine = make_engine(settings.database_url)
    print(f"Migrating {_describe(settings.database_url)} …")
    upgrade(engine)
    session_factory = make_session_factory(engine, Signals())
    with session_factory() as session:
        get_service_settings(session, settings.default_timezone)
        session.commit()
        if settings.demo_agents:
            print("Agent console logins (http://localhost:8000/agent/):")
            for email, name, role, password in (
                (settings.demo_admin_email, "Alex", "admin", settings.demo_admin_password),
                (settings.demo_agent_email, "Sam", "agent", settings.demo_agent_password),
            ):
                agent, created = ensure_account(session, email, name, role, password, settings.languages)
                shown = password if created or password_matches(agent, password) else "(changed since; not shown)"
                print(f"  {role:<6} {agent.email} / {shown}{'  [new]' if created else ''}")
    engine.dispose()
    print("Database is up to date.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the app on a threaded WSGI server (SSE needs a thread per open console)."""
    from werkzeug.serving import make_server

    from handoff.app import create_app
    from handoff.schema import is_up_to_date

    settings = _settings()
    app = create_app(settings)
    state = app.extensions["handoff"]
    try:
        current = is_up_to_date(state.engine)
    except Exception as exc:  # noqa: BLE001 - say what is wrong instead of a traceback
        logger.error("cannot reach the database %s: %s", _describe(settings.database_url), exc)
        return 2
    if not current:
        logger.error("the database schema is not current: run `python -m handoff migrate` first")
        return 2
    if settings.environment != "production" and settings.secret_key.startswith("dev-only"):
        logger.warning("using the development SECRET_KEY; set SECRET_KEY for anything but local use")
    server = make_server(args.host, args.port, app, threaded=True)
    server.daemon_threads = True
    from handoff.api.faq import QuietPolls

    logging.getLogger("werkzeug").addFilter(QuietPolls())  # action servers poll FAQ changes every second
    if not args.no_worker:
        state.start_worker()

    def _stop(signum, _frame):
        logger.info("received %s, shutting down", signal.Signals(signum).name)
        state.signals.stop()  # ends open event streams
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    base = f"http://{args.host}:{server.server_port}"
    logger.info("handoff service on %s — demo page /, agent console /agent/, bot API /api/, health /health", base)
    logger.info("database %s; Rasa at %s", _describe(settings.database_url), settings.rasa_url)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        state.shutdown()
        logger.info("stopped")
    return 0


def cmd_create_agent(args: argparse.Namespace) -> int:
    from handoff.db import Signals, make_engine, make_session_factory
    from handoff.services.agents import AgentForm, create_agent
    from handoff.services.errors import ServiceError

    settings = _settings()
    # A plain lookup, not core.env.Env: the user names the variable on the command line (no setting of the
    # service, nothing for the deployment to provide), and a password is taken as given, blanks included.
    password = os.environ.get(args.password_env, "") if args.password_env else ""
    if not password:
        password = getpass.getpass(f"Password for {args.email}: ")
    languages = tuple(lang.strip() for lang in args.languages.split(",") if lang.strip())
    form = AgentForm(
        email=args.email, display_name=args.name, role=args.role, languages=languages, capacity=args.capacity
    )
    engine = make_engine(settings.database_url)
    with make_session_factory(engine, Signals())() as session:
        try:
            agent = create_agent(session, form, password, settings.languages)
        except ServiceError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
        print(f"created {agent.role} {agent.email}")
    return 0


def _session_and_tracker(settings):
    from handoff.db import Signals, make_engine, make_session_factory
    from handoff.tracker_store import TrackerStore

    engine = make_engine(settings.database_url)
    return engine, make_session_factory(engine, Signals())(), TrackerStore(settings.tracker_store_url)


def _lookup(args: argparse.Namespace):
    from handoff.services.errors import Invalid
    from handoff.services.privacy import Lookup

    try:
        return Lookup(sender_id=args.customer, email=args.email, phone=args.phone)
    except Invalid as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise SystemExit(1) from None


def cmd_privacy_export(args: argparse.Namespace) -> int:
    """Write everything about one customer as JSON (stdout or --out); audited."""
    import json

    from handoff.services.audit import cli_actor
    from handoff.services.privacy import export_customer

    settings = _settings()
    lookup = _lookup(args)
    engine, session, tracker = _session_and_tracker(settings)
    with session:
        document = export_customer(session, lookup, tracker, cli_actor(), settings.secret_key)
    engine.dispose()
    text = json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"
    if args.out:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # personal data: owner only
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in document["counts"].items())
    tracker_part = document["tracker_store"]
    print(f"exported {counts}{f' to {args.out}' if args.out else ''}", file=sys.stderr)
    if tracker_part["status"] != "ok":
        print(f"tracker store {tracker_part['status']}: {tracker_part['note']}", file=sys.stderr)
    return 1 if tracker_part["status"] == "error" else 0


def _question_classifier(settings):
    """The console's classifier (handoff.insights.question_classifier): an erasure keeps a request for a
    person or small talk out of "unanswered" whichever way it is done; None when the model cannot load."""
    from handoff.insights import question_classifier
    from handoff.app import create_app

    app = create_app(settings)
    try:
        return question_classifier(app)
    finally:
        app.extensions["handoff"].shutdown()


def cmd_privacy_delete(args: argparse.Namespace) -> int:
    """Erase one customer from the handoff database (one transaction) and Rasa's tracker store; audited."""
    from handoff.services.audit import cli_actor
    from handoff.services.privacy import collect, erase_customer

    settings = _settings()
    lookup = _lookup(args)
    engine, session, tracker = _session_and_tracker(settings)
    with session:
        if not args.yes:
            preview = collect(session, lookup, tracker)
            session.rollback()
            print(
                "Stored about this customer: "
                + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in preview["counts"].items())
            )
            if not sys.stdin.isatty():
                print("error: add --yes to delete without a question", file=sys.stderr)
                return 1
            if input(f"Type {lookup.value} to delete all of it: ").strip() != lookup.value:
                print("Nothing deleted.")
                return 1
        report = erase_customer(
            session, lookup, tracker, cli_actor(), settings.secret_key, classify=_question_classifier(settings)
        )
    engine.dispose()
    for line in report.lines():
        print(line)
    if report.tracker_status == "error":
        print("The tracker store was not reached: run the same command again once it is.", file=sys.stderr)
        return 3
    return 0


def cmd_privacy_retention(args: argparse.Namespace) -> int:
    """Anonymise what is older than --days (default HANDOFF_RETENTION_DAYS); --dry-run only counts."""
    from handoff.services.audit import cli_actor
    from handoff.services.retention import describe, run_retention

    settings = _settings()
    days = args.days if args.days is not None else settings.retention_days
    if days < 1:
        print("Retention is off (HANDOFF_RETENTION_DAYS=0): pass --days N to run it once.", file=sys.stderr)
        return 1
    engine, session, tracker = _session_and_tracker(settings)
    with session:
        classify = None if args.dry_run else _question_classifier(settings)
        report = run_retention(session, days, tracker, cli_actor(), dry_run=args.dry_run, classify=classify)
    engine.dispose()
    for line in describe(report):
        print(line)
    return 3 if report.tracker_status == "error" else 0


def cmd_unlock_agent(args: argparse.Namespace) -> int:
    """Lift a lockout after too many failed logins (also for the last admin); audited."""
    from sqlalchemy import select

    from handoff.models import Agent
    from handoff.services.agents import unlock
    from handoff.services.audit import cli_actor

    settings = _settings()
    engine, session, _tracker = _session_and_tracker(settings)
    with session:
        agent_id = session.scalar(select(Agent.id).where(Agent.email == args.email.strip().lower()))
        if agent_id is None:
            print(f"error: no agent {args.email}", file=sys.stderr)
            return 1
        unlock(session, agent_id, cli_actor())
    engine.dispose()
    print(f"unlocked {args.email}")
    return 0


def cmd_make_migration(args: argparse.Namespace) -> int:
    from handoff.db import make_engine
    from handoff.schema import make_revision

    make_revision(make_engine(_settings().database_url), args.message)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m handoff",
        description="Handoff service: bot API, agent console and callback queue. "
        "Configured by DATABASE_URL, SECRET_KEY, RASA_URL, RASA_TOKEN, HANDOFF_API_TOKEN, HANDOFF_DEMO_AGENTS.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    migrate = sub.add_parser("migrate", help="upgrade the database schema and create the demo agents")
    migrate.set_defaults(func=cmd_migrate)
    serve = sub.add_parser("serve", help="run the web service")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--no-worker", action="store_true", help="do not deliver the outbox from this process")
    serve.set_defaults(func=cmd_serve)
    agent = sub.add_parser("create-agent", help="create an agent or admin account")
    agent.add_argument("--email", required=True)
    agent.add_argument("--name", required=True, help="display name the customer sees")
    agent.add_argument("--role", choices=("agent", "admin"), default="agent")
    agent.add_argument("--languages", default="de,en")
    agent.add_argument("--capacity", type=int, default=3)
    agent.add_argument("--password-env", help="read the password from this environment variable instead of a prompt")
    agent.set_defaults(func=cmd_create_agent)
    unlock_agent = sub.add_parser("unlock-agent", help="unlock an account locked after failed logins")
    unlock_agent.add_argument("--email", required=True)
    unlock_agent.set_defaults(func=cmd_unlock_agent)
    privacy = sub.add_parser("privacy", help="export or delete one customer's data; retention")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True)
    for name, func, help_text in (
        ("export", cmd_privacy_export, "everything about one customer as JSON (audited)"),
        ("delete", cmd_privacy_delete, "erase one customer from the handoff database and the tracker store (audited)"),
    ):
        command = privacy_sub.add_parser(name, help=help_text)
        who = command.add_mutually_exclusive_group(required=True)
        who.add_argument("--customer", metavar="SENDER_ID", help="the Rasa sender id (conversation id)")
        who.add_argument("--email", help="an e-mail address the customer left for a callback")
        who.add_argument("--phone", help="a phone number the customer left for a callback")
        if name == "export":
            command.add_argument("--out", help="write to this file (created readable by you only) instead of stdout")
        else:
            command.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        command.set_defaults(func=func)
    retention = privacy_sub.add_parser("retention", help="anonymise conversations older than N days now")
    retention.add_argument("--days", type=int, help="default: HANDOFF_RETENTION_DAYS")
    retention.add_argument("--dry-run", action="store_true", help="only count what would change")
    retention.set_defaults(func=cmd_privacy_retention)
    from handoff import faq_cli

    faq_cli.add_commands(sub)
    revision = sub.add_parser("make-migration", help="(developers) autogenerate a migration from model changes")
    revision.add_argument("message")
    revision.set_defaults(func=cmd_make_migration)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging()
    return args.func(args)
