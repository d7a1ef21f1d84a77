"""``python -m sup``: the ``sup`` command (torchrun launches training this way)."""

import sys

from sup.cli.main import main

sys.exit(main())
