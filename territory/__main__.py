"""``python -m territory``: the same command as ``territory``."""

import sys

from .cli import main

sys.exit(main())
