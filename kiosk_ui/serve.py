"""Run the kiosk with waitress (production WSGI server): ``python -m kiosk_ui.serve`` or ``sohoa kiosk``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from kiosk_ui.backend import DEV_ACCOUNTS

log = logging.getLogger("sohoa.kiosk")


def dev_login_lines(pin: str | None, accounts: bool) -> list[str]:
    """What the console shows a developer: the card PIN of the dev token and the dev accounts."""
    lines = []
    if pin:
        lines.append(f"  officer, smart card: development token PIN {pin}")
    if accounts:
        lines += [f"  {role:<10}  user {user:<8} password {password}" for user, _n, role, password in DEV_ACCOUNTS]
    return lines


def _dev_pin(create: bool) -> str | None:
    """The development token's PIN when that token exists (created first when ``create``)."""
    from service.paths import get_paths
    from service.usecases.sign import dev_token_pin

    return dev_token_pin(get_paths().ensure(), create=create)


def serve(host: str = "127.0.0.1", port: int = 8080, *, dev_token: bool = False, threads: int = 6) -> int:
    """Build the app and serve until interrupted; ``dev_token`` creates the development token first."""
    from waitress import serve as waitress_serve

    from kiosk_ui.app import create_app

    pin = _dev_pin(dev_token)
    app = create_app()
    settings = app.config["KIOSK"]
    dev_accounts = app.extensions["kiosk_backend"].dev_accounts_enabled
    print(f"sohoa kiosk: http://{host}:{port}/  (citizen screen: http://{host}:{port}/citizen/)", flush=True)
    if dev_accounts or pin:
        print("development login (DEVELOPMENT ONLY — never on a production box):", flush=True)
        for line in dev_login_lines(pin if settings.card_login else None, dev_accounts):
            print(line, flush=True)
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="sohoa-kiosk")
    finally:
        app.extensions["kiosk_backend"].close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point."""
    parser = argparse.ArgumentParser(prog="kiosk_ui.serve", description="serve the sohoa kiosk UI")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--dev-token", action="store_true", help="create the development token first (dev only)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return serve(args.host, args.port, dev_token=args.dev_token)


if __name__ == "__main__":
    sys.exit(main())
