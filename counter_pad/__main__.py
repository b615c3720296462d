"""``python -m counter_pad`` is the ``counter-pad`` command."""

import sys

from .cli import main

sys.exit(main())
