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
    h: argparse.ArgumentParser = sub.add_parser(
        "kiosk-account", help="print a kiosk.yaml entry for a local account (password read from stdin)")
    h.add_argument("username")
    h.add_argument("--role", choices=("officer", "supervisor", "technician"), required=True)
    h.add_argument("--name", required=True, help="display name shown in the kiosk")
    h.set_defaults(func=account)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from kiosk_ui.serve import serve

    return serve(args.host, args.port, dev_token=args.dev_token)


def account(args: argparse.Namespace) -> int:
    """Hash a password (stdin, or asked on a terminal) and print the ``local_accounts`` entry."""
    import getpass
    import sys

    from pydantic import ValidationError as PydanticValidationError
    from werkzeug.security import generate_password_hash

    from kiosk_ui.config import LocalAccount
    from service.errors import ValidationError

    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 10:
        raise ValidationError("password", "must be at least 10 characters", remedy="choose a longer password")
    try:
        entry = LocalAccount(username=args.username, display_name=args.name, role=args.role,
                             password_hash=generate_password_hash(password))
    except PydanticValidationError:
        raise ValidationError("username", "must be 3-32 of a-z, 0-9, '_', '.', '-'",
                              remedy="choose a simple lower-case user name") from None
    print("local_accounts:")
    print(f"  - username: {entry.username}")
    print(f"    display_name: \"{entry.display_name}\"")
    print(f"    role: {entry.role}")
    print(f"    password_hash: \"{entry.password_hash}\"")
    return 0
