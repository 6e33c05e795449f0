"""The Flask application factory: bot API, agent console and demo page on one port."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from flask import Flask, jsonify, request
from sqlalchemy import func, select, text

from handoff import headers, i18n, limits
from handoff.db import Signals, make_engine, make_session_factory
from handoff.extensions import HandoffState, close_db, db, state
from handoff.models import OutboxItem
from handoff.services import faq_feed
from handoff.settings import Settings
from handoff.suggestions import KnowledgeBaseSuggestions
from knowledge_base.provider import KnowledgeBaseProvider

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    suggestions=None,
    transport_factory=None,
    knowledge_base: KnowledgeBaseProvider | None = None,
) -> Flask:
    """Build the service; nothing touches the database until a request or command does.

    ``knowledge_base``: the process's one knowledge base (default: the configured index, loaded on first
    use); the console's suggestions (unless ``suggestions`` replaces them) and Insights share it.
    """
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SESSION_COOKIE_NAME="handoff_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours),
        JSON_SORT_KEYS=False,
    )
    engine = make_engine(settings.database_url)
    signals = Signals()
    handoff_state = HandoffState(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine, signals),
        signals=signals,
        transport_factory=transport_factory,
        knowledge_base=knowledge_base or KnowledgeBaseProvider(follower_name="kb-suggestions-follower"),
    )
    # The knowledge base follows the FAQ changes published in this database (by any replica).
    handoff_state.knowledge_base.follow(faq_feed.reader(handoff_state.session_factory))
    handoff_state.suggestions = suggestions or KnowledgeBaseSuggestions(handoff_state.knowledge_base)
    app.extensions["handoff"] = handoff_state
    app.teardown_appcontext(close_db)
    i18n.install(app)
    _register_routes(app, handoff_state)
    headers.install(app, settings)
    limits.install(app, settings)
    return app


def _register_routes(app: Flask, handoff_state: HandoffState) -> None:
    """The blueprints (demo page, console, bot API, Insights), /health and the API's routing errors."""
    from handoff.agents import bp as agents_bp
    from handoff.api import bp as api_bp
    from handoff.insights import InsightsState, question_classifier
    from handoff.insights import api as insights_api_bp
    from handoff.insights import pages as insights_bp
    from handoff.web import bp as web_bp

    app.register_blueprint(web_bp)
    app.register_blueprint(agents_bp, url_prefix="/agent")
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(insights_bp, url_prefix="/agent/admin/insights")
    app.register_blueprint(insights_api_bp, url_prefix="/api/insights")
    app.extensions["insights"] = InsightsState(kb_loader=handoff_state.knowledge_base.get)
    app.add_url_rule("/health", "health", health)
    handoff_state.question_classifier = partial(question_classifier, app)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _routing_error(exc):
        # Routing fails before a blueprint is chosen, so the API's JSON errors are decided here.
        if request.path.startswith("/api/"):
            from handoff.api import error

            code = "not_found" if exc.code == 404 else "method_not_allowed"
            return error(exc.code, code, exc.description)
        return exc


def health():
    """Liveness plus the two things that break a deployment: the database and the schema."""
    from handoff.schema import head_revision

    try:
        session = db()
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        pending = session.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending"))
    except Exception as exc:  # noqa: BLE001 - report, do not crash
        logger.warning("health check failed: %s", exc)
        return jsonify(status="error", service="handoff", database=str(exc.__class__.__name__)), 503
    schema_ok = revision == head_revision()
    body = {
        "status": "ok" if schema_ok else "error",
        "service": "handoff",
        "database": "ok",
        "schema": "current" if schema_ok else "outdated: run python -m handoff migrate",
        "outbox_pending": int(pending or 0),
        "worker": state().worker is not None,
    }
    return jsonify(body), 200 if schema_ok else 503
