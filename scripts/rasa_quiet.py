"""`rasa` as the runners start it (train, run), without the libraries' deprecation warnings.

Runs in the Rasa environment (Python 3.10): `.venv-rasa/bin/python -m scripts.rasa_quiet run ...`.
PYTHONWARNINGS cannot do this: Sanic turns DeprecationWarnings back on when it is imported
(sanic/app.py), and Rasa puts "once" for every UserWarning in front when it configures logging, which
lets pyparsing's deprecation warnings (UserWarnings too) through again. So the filters go in front
after both. What they hide is nothing anyone here can act on (TensorFlow, pkg_resources, matplotlib's
pyparsing, SQLAlchemy 1.4 inside Rasa 3.6); Rasa's own warnings, errors and tracebacks still show.
"""

import sys
import warnings

import sanic  # noqa: F401 - imported first, so that the filters below take precedence over its own


def silence_deprecations() -> None:
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)


silence_deprecations()

import rasa.utils.common as rasa_common  # noqa: E402 - after the filters: its imports are what warns
from rasa.__main__ import main  # noqa: E402

_rasa_filter_warnings = rasa_common._filter_warnings


def _filter_warnings(*args, **kwargs) -> None:
    _rasa_filter_warnings(*args, **kwargs)
    silence_deprecations()


rasa_common._filter_warnings = _filter_warnings  # called by configure_logging_and_warnings in main()

if __name__ == "__main__":
    sys.argv[0] = "rasa"
    sys.exit(main())
