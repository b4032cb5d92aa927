"""``python -m province_gateway.web`` runs the province view."""

import sys

from province_gateway.web.cli import main

sys.exit(main())
