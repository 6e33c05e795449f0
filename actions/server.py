"""The action server's entry point: rasa_sdk's server, callable only by Rasa.

    python -m actions.server --actions actions --port 5055      # the same arguments as `python -m rasa_sdk`

rasa_sdk has no authentication: anyone who reaches the port can run any action (hand a conversation to an
agent, cancel a callback) for any conversation. With ACTION_SERVER_TOKEN set, every request except
`GET /health` must carry it in the `X-Action-Token` header, which Rasa sends from its endpoints.yml
(`action_endpoint.headers`, written by scripts/stack.py and scripts/prod.py); others get a 401. `make run`
also binds the server to loopback (SANIC_HOST=127.0.0.1).
"""
from __future__ import annotations

import hmac
import os

import rasa_sdk.endpoint as endpoint
from sanic import response

TOKEN_HEADER = "X-Action-Token"
_create_app = endpoint.create_app


def create_app(*args, **kwargs):
    """rasa_sdk's app, with the token check in front of every route but /health."""
    app = _create_app(*args, **kwargs)
    token = os.environ.get("ACTION_SERVER_TOKEN") or ""

    @app.on_request
    async def require_token(request):
        if not token or request.path == "/health":
            return None
        if hmac.compare_digest(request.headers.get(TOKEN_HEADER, "").encode(), token.encode()):
            return None
        return response.json({"error": {"code": "unauthorized",
                                        "message": f"the action server answers Rasa only ({TOKEN_HEADER})"}},
                             status=401)

    return app


def main() -> None:
    endpoint.create_app = create_app  # create_app_for_serve looks it up when the server starts
    import rasa_sdk.__main__

    rasa_sdk.__main__.main()


if __name__ == "__main__":
    main()
