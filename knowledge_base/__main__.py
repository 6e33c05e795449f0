"""Entry point for ``python -m knowledge_base``."""

import sys

from .cli import main

sys.exit(main())
