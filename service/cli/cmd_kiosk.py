"""``sohoa kiosk``: the touchscreen web UI (officer desk, citizen self-service, technician page)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add the ``kiosk`` subcommand."""
    p: argparse.ArgumentParser = sub.add_parser(
        "kiosk", help="serve the kiosk UI (waitress) and print its URL and the development login")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--dev-token", action="store_true",
                   help="create the DEVELOPMENT ONLY SoftHSM token first (never on a production box)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from kiosk_ui.serve import serve

    return serve(args.host, args.port, dev_token=args.dev_token)
