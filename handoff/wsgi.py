"""WSGI entry point for several worker processes (production mode):

    gunicorn -c handoff/gunicorn.conf.py --workers 2 handoff.wsgi:app   (gevent workers)

Each worker process also runs the outbox delivery thread: items are taken with an atomic
database lock, so several workers never deliver the same message twice. Set
HANDOFF_START_WORKER=0 to run delivery elsewhere (e.g. `python -m handoff serve`).
"""

from __future__ import annotations

import atexit
import logging

from core.env import Env
from handoff.app import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s handoff[%(process)d] %(levelname)s %(name)s: %(message)s")

# Fail closed: under gunicorn a missing HANDOFF_ENV must not quietly mean development secrets and demo accounts.
env = Env()
if env.raw("HANDOFF_ENV") not in ("production", "development"):
    raise SystemExit(
        "handoff.wsgi: set HANDOFF_ENV=production (or HANDOFF_ENV=development to serve the "
        "development defaults on purpose); refusing to start without it"
    )

app = create_app()
_state = app.extensions["handoff"]
# Only "0" turns the worker off (unset, empty or any other value starts it), as documented in .env.example.
if env.raw("HANDOFF_START_WORKER") != "0":
    _state.start_worker()
atexit.register(_state.shutdown)
