"""The action server's entry point: rasa_sdk's server, callable only by Rasa.

    python -m actions.server --actions actions --port 5055      # the same arguments as `python -m rasa_sdk`

rasa_sdk has no authentication: anyone who reaches the port can run any action (hand a conversation to an
agent, cancel a callback) for any conversation. With ACTION_SERVER_TOKEN set, every request except
`GET /health` and `GET /ready` must carry it in the `X-Action-Token` header, which Rasa sends from its endpoints.yml
(`action_endpoint.headers`, written by scripts/stack.py and scripts/prod.py); others get a 401. `make run`
also binds the server to loopback (SANIC_HOST=127.0.0.1).

Each worker warms itself up as it starts (the knowledge base, its encoders, the request matcher) and answers
`GET /ready` with 503 until it has: Kubernetes' readiness probe sends no customer to a pod still loading its model.

Sanic builds the app again in its worker process from a pickled factory, so the factory here is a
module-level function of this module (a patch of rasa_sdk's would not reach the worker).
"""

from __future__ import annotations

import hmac
import logging
import threading
from functools import partial

from rasa_sdk import endpoint, utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.worker.loader import AppLoader

from core.env import Env

TOKEN_HEADER = "X-Action-Token"
OPEN_PATHS = ("/health", "/ready")  # probes: no token
logger = logging.getLogger(__name__)
_warm = threading.Event()  # set once this process has loaded what a first question needs


def require_token(app: Sanic, token: str) -> Sanic:
    """Every route but /health answers 401 without the shared secret."""

    @app.on_request
    async def check_token(request):
        if not token or request.path in OPEN_PATHS:
            return None
        if hmac.compare_digest(request.headers.get(TOKEN_HEADER, "").encode(), token.encode()):
            return None
        return response.json(
            {"error": {"code": "unauthorized", "message": f"the action server answers Rasa only ({TOKEN_HEADER})"}},
            status=401,
        )

    return app


def warm_up() -> None:
    """Load the knowledge base, its encoder and the request matcher, as a first question would, without a
    conversation: nothing reaches the handoff service's analytics (no synthetic customer)."""
    from actions import providers
    from actions.requests import matcher

    kb = providers.get_kb()
    kb.search("warm up", k=1)
    matcher(kb)
    _warm.set()


def _warm_up_logged() -> None:
    try:
        warm_up()
    except Exception:  # the first question will try again (and say why it cannot answer)
        logger.exception("warm-up failed: not ready")


def add_warm_up(app: Sanic) -> Sanic:
    """`POST /warmup` (behind the token; make run and the production stack wait on it), `GET /ready` (503 until
    warm), and a warm-up of its own as the server starts."""

    @app.post("/warmup")
    async def warmup(request):
        import asyncio

        await asyncio.get_running_loop().run_in_executor(None, warm_up)
        return response.json({"ok": True})

    @app.get("/ready")
    async def ready(request):
        return response.json({"ready": _warm.is_set()}, status=200 if _warm.is_set() else 503)

    @app.listener("after_server_start")
    async def warm_up_in_background(app, loop):
        loop.run_in_executor(None, _warm_up_logged)

    return app


def create_app_for_serve(action_executor: ActionExecutor, **kwargs) -> Sanic:
    """rasa_sdk's app for the primary process and each worker, with the token check in front."""
    app = add_warm_up(endpoint.create_app_for_serve(action_executor, **kwargs))
    return require_token(app, Env().raw("ACTION_SERVER_TOKEN"))


def main(argv: list[str] | None = None) -> None:
    args = endpoint.create_argument_parser().parse_args(argv)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()
    env = Env()
    if not env.is_set("ACTION_SERVER_TOKEN"):
        logger.warning("ACTION_SERVER_TOKEN is not set: anyone who reaches port %s can run actions", args.port)
    executor = ActionExecutor()
    executor.register_package(args.actions_module or args.actions)
    loader = AppLoader(
        factory=partial(
            create_app_for_serve,
            executor,
            cors_origins=args.cors,
            auto_reload=args.auto_reload,
            endpoints=args.endpoints,
        )
    )
    app = loader.load()
    app.prepare(host=env.text("SANIC_HOST", "0.0.0.0"), port=args.port, workers=utils.number_of_sanic_workers())
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
