"""Operator insight for admins: analytics pages under /agent/admin/insights/ and JSON under /api/insights/."""

from __future__ import annotations

import logging

import csv
import io
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from handoff.security import csrf_ok, load_agent, wants_json
from handoff.extensions import db, state
from handoff.models import utcnow
from handoff.services import analytics
from handoff.services.question_kinds import QuestionKinds
from handoff.services.errors import ServiceError, invalid_fields, translatable

logger = logging.getLogger(__name__)
pages = Blueprint("insights", __name__, template_folder="templates")
api = Blueprint("insights_api", __name__)

MAX_DAYS = 366


def _default_kb_loader() -> Any:
    # One knowledge base per process: the app's (create_app), shared with the console's suggestions.
    return state().knowledge_base.get()


def _default_faq_path() -> Path:
    from knowledge_base import Settings

    return Path(Settings.from_env().faq_path)


@dataclass
class InsightsState:
    """Insights' collaborators: the app's knowledge base (for publishing and clustering), the FAQ files, the
    encoder; built by ``create_app``, tests pass their own."""

    kb_loader: Callable[[], Any] = _default_kb_loader
    faq_path_loader: Callable[[], Path] = _default_faq_path
    encode: Callable[[list[str]], Any] | None = None
    threshold: float = analytics.DEFAULT_CLUSTER_THRESHOLD
    cache_dir: Path | None = Path(__file__).resolve().parents[2] / "var" / "insights_cache"
    _kinds: QuestionKinds | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def kb(self) -> Any:
        return self.kb_loader()

    def faq_path(self) -> Path:
        return Path(self.faq_path_loader())

    def encoder(self) -> Callable[[list[str]], Any] | None:
        """The knowledge base's own encoder; without an index, the configured model alone."""
        if self.encode is not None:
            return self.encode
        try:
            return self.kb().encode
        except Exception:  # noqa: BLE001 - no index yet: the model is enough to cluster
            from knowledge_base import Settings
            from knowledge_base.encoder import make_encoder

            self.encode = make_encoder(Settings.from_env().model)
            return self.encode

    def question_kinds(self) -> QuestionKinds:
        """Tells requests for a person and small talk from questions (the NLU examples, the KB's encoder)."""
        encode, scale = self.encoder(), self.cosine_scale()
        model_name = getattr(encode, "model_name", None)
        if model_name is None and self.encode is None:
            model_name = self.kb().manifest.get("model")  # the KB's own encode method: its index's model
        with self._lock:  # one per encoder: its examples are encoded once per process
            if self._kinds is None or self._kinds.encode != encode:
                self._kinds = QuestionKinds(encode, scale, cache_dir=self.cache_dir, model_name=model_name)
            return self._kinds

    def cosine_scale(self) -> tuple[float, float]:
        """The encoder's raw cosines mapped onto the KB's scale (MiniLM + multilingual-e5 run higher: the index
        manifest's ``cosine_scale``)."""
        scale = None
        if self.encode is None:
            try:
                scale = (self.kb().manifest.get("encoder") or {}).get("cosine_scale")
            except Exception:  # noqa: BLE001 - no index: the model alone, its own scale
                scale = None
        scale = scale or getattr(self.encode, "cosine_scale", None) or (0.0, 1.0)
        return float(scale[0]), float(scale[1])

    def cluster_threshold(self) -> float:
        """``threshold`` is on the scale the KB's constants use; as a raw cosine of the encoder."""
        shift, scale = self.cosine_scale()
        return shift + scale * self.threshold


def insights() -> InsightsState:
    return current_app.extensions["insights"]


def question_classifier(app=None):
    """The insight page's classifier, so an erased request for a person stays out of "unanswered" whichever way
    it is erased (console, command line, retention); None (the erased words count as questions) when the model
    cannot load. Outside a request, pass the app."""
    if app is not None:
        with app.app_context():
            return question_classifier()
    try:
        return insights().question_kinds().classify
    except Exception:  # a deletion must never fail for the sake of a statistic
        logger.warning("no question classifier for the deletion; its bot events count as questions", exc_info=True)
        return None


def _guard():
    g.agent = None
    agent = load_agent()
    if agent is None:
        if request.blueprint == "insights_api" or wants_json():
            return jsonify(error={"code": "login_required", "message": "Log in to the console as an admin."}), 401
        return redirect(url_for("agents.login", next=request.full_path.rstrip("?")))
    g.agent = agent
    if not agent.is_admin:
        if request.blueprint == "insights_api" or wants_json():
            return jsonify(error={"code": "forbidden", "message": "Admins only."}), 403
        return render_template("agents/error.html", title=_("Not allowed"), message=_("This page is for admins.")), 403
    if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok():
        if request.blueprint == "insights_api" or wants_json():
            return jsonify(error={"code": "csrf", "message": "Missing or stale X-CSRF-Token; reload the page."}), 400
        return render_template(
            "agents/error.html",
            title=_("Session expired"),
            message=_("The form was too old or came from elsewhere. Reload the page and try again."),
        ), 400
    return None


pages.before_request(_guard)
api.before_request(_guard)


@pages.after_request
def _headers(response):
    # Content-Security-Policy and the other security headers: handoff.headers, for the whole app.
    response.headers["Cache-Control"] = "no-store"
    return response


@api.errorhandler(ServiceError)
def _api_service_error(exc: ServiceError):
    db().rollback()
    body = {"error": {"code": exc.code, "message": exc.message}}
    if exc.details:
        body["error"]["details"] = exc.details
    return jsonify(body), exc.status


@api.errorhandler(HTTPException)
def _api_http_error(exc: HTTPException):
    return jsonify(error={"code": "http_error", "message": exc.description or exc.name}), exc.code or 500


def period_from_args(args) -> analytics.Period:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD&channel=&language= (default: the last 7 days)."""
    today = utcnow().date()
    problems = []

    def day(name: str, default: date) -> date:
        raw = (args.get(name) or "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            problems.append((name, translatable("%(field)s must be a date like 2025-05-06"), {}))
            return default

    end = day("to", today)
    start = day("from", end - timedelta(days=6))
    if start > end:
        problems.append(("from", translatable("%(field)s must not be after 'to'"), {}))
    elif (end - start).days >= MAX_DAYS:
        problems.append(("from", translatable("%(field)s the period may be at most %(n)s days"), {"n": MAX_DAYS}))
    language = (args.get("language") or "").strip() or None
    if language is not None and language not in state().settings.languages:
        problems.append(
            (
                "language",
                translatable("%(field)s must be one of %(languages)s"),
                {"languages": ", ".join(state().settings.languages)},
            )
        )
    channel = (args.get("channel") or "").strip()[:64] or None
    if problems:
        raise invalid_fields(problems)
    return analytics.Period(start, end, channel, language)


def build_report(period: analytics.Period, clusters: bool = True) -> dict[str, Any]:
    """The report; requests for a person and small talk are told from questions whether or not it clusters,
    so "unanswered" is the same figure on every page and in every export."""
    holder = insights()
    encode = holder.encoder()
    return analytics.report(
        db(),
        period,
        encode=encode if clusters else None,
        threshold=holder.cluster_threshold(),
        classify=holder.question_kinds().classify,
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell a spreadsheet will not run: customers' text starting like a formula
    (`=HYPERLINK(...)`, `+cmd`, `@SUM`) gets a leading apostrophe (OWASP's CSV-injection advice)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_response(rows: list[dict[str, Any]], name: str):
    buffer = io.StringIO()
    columns = list(dict.fromkeys(k for row in rows for k in row)) or ["empty"]
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    response = current_app.response_class(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


from handoff.insights import json_api, views  # noqa: E402,F401  (routes register on the blueprints)
