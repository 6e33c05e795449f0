"""gunicorn settings for the handoff service in production (scripts.prod; container images use it too):

    gunicorn -c handoff/gunicorn.conf.py --bind 127.0.0.1:8000 --workers 2 handoff.wsgi:app

gevent workers: an open console tab (a server-sent event stream held for up to ten minutes) is a
greenlet waiting on a condition, not a thread, so idle tabs never block the bot API. gunicorn
patches the standard library before it loads the app; psycopg then waits cooperatively too.
Flags on the command line override these values.
"""

from core.env import Env

env = Env()
bind = env.text("HANDOFF_BIND", "127.0.0.1:8000")
workers = env.integer("HANDOFF_WORKERS", 2, minimum=1)
worker_class = "gevent"
# Connections one worker holds at once: open console streams plus requests in flight.
worker_connections = env.integer("HANDOFF_WORKER_CONNECTIONS", 2000, minimum=1)
if env.problems:
    # SystemExit, not ValueError: gunicorn prints the message and stops instead of a traceback.
    raise SystemExit("handoff/gunicorn.conf.py: " + "; ".join(env.problems))
# A worker that stops answering gunicorn's heartbeat for this long is replaced; open streams do not count.
timeout = 60
graceful_timeout = 5
keepalive = 5
