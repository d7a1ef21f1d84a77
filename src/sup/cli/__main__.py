import sys

from sup.cli.main import main

sys.exit(main())
