"""Security headers on every response: a Content-Security-Policy per part of the service, and the usual rest."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request

from handoff.settings import Settings

# The console and the insight pages: our own script and stylesheet only (no inline code anywhere).
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# JSON and everything else: nothing to load, nothing to frame.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def rasa_sources(public_url: str) -> str:
    """Rasa's socket.io origin for connect-src, over HTTP long-polling and over WebSocket."""
    parts = urlsplit(public_url)
    if not parts.scheme or not parts.netloc:
        return ""
    socket_scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc} {socket_scheme}://{parts.netloc}"


def widget_csp(public_url: str) -> str:
    """The demo page: rasa-webchat injects <style> elements at run time (style-loader), hence
    'unsafe-inline' for styles only; scripts stay 'self'; the widget talks to Rasa's socket.io."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        f"font-src 'self' data:; connect-src 'self' {rasa_sources(public_url)}; object-src 'none'; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
    ).replace("  ", " ")


def install(app: Flask, settings: Settings) -> None:
    """Add the headers to every response of ``app``."""
    page_csp = widget_csp(settings.rasa_public_url)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        path = request.path
        if path.startswith("/agent"):
            csp, frames = CONSOLE_CSP, "DENY"
        elif path == "/" or path.startswith("/static/web/"):
            csp, frames = page_csp, "SAMEORIGIN"
        else:
            csp, frames = API_CSP, "DENY"
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Frame-Options", frames)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        if settings.secure_cookies:
            # Secure cookies mean the service is served over HTTPS; keep browsers there.
            headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        return response
