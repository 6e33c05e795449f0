"""The public demo page at / (a help-centre page; the chat widget plugs into its widget block)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static/web")


@bp.get("/")
def index():
    return render_template("web/index.html")
