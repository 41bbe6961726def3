"""``python -m feedback_lib`` runs the command line."""

import sys

from feedback_lib.cli import main

sys.exit(main())
