"""``python -m province_gateway`` runs the gateway CLI."""

import sys

from province_gateway.cli import main

sys.exit(main())
