"""The public demo page at / (a help-centre page; the chat widget plugs into its widget block)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from handoff.extensions import state
from handoff.web.widget import page_language, widget_config

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static/web")


@bp.get("/")
def index():
    settings = state().settings
    lang = page_language(request.args.get("lang"), request.accept_languages, settings.languages)
    page = render_template("web/index.html", lang=lang, widget=widget_config(settings.rasa_public_url, lang))
    return page, 200, {"Vary": "Accept-Language", "Content-Language": lang}
