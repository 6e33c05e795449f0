"""Handoff service: bot-facing API, agent console with live takeover, and the callback queue."""


def create_app(*args, **kwargs):
    """See :func:`handoff.app.create_app` (imported lazily so ``python -m handoff --help`` stays fast)."""
    from handoff.app import create_app as factory

    return factory(*args, **kwargs)
