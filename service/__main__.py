"""``python -m service`` runs the ``sohoa`` command."""

import sys

from service.cli.main import main

sys.exit(main())
