"""Run the kiosk with waitress (production WSGI server): ``python -m kiosk_ui.serve`` or ``sohoa kiosk``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from kiosk_ui.backend import DEV_ACCOUNTS

log = logging.getLogger("sohoa.kiosk")


def dev_login_lines(pin: str | None) -> list[str]:
    """What the console shows a developer: the card PIN of the dev token and the dev accounts."""
    lines = []
    if pin:
        lines.append(f"  officer, smart card: development token PIN {pin}")
    lines += [f"  {role:<10}  user {user:<8} password {password}" for user, _n, role, password in DEV_ACCOUNTS]
    return lines


def serve(host: str = "127.0.0.1", port: int = 8080, *, dev_token: bool = True, threads: int = 6) -> int:
    """Prepare the development token (when asked), build the app and serve until interrupted."""
    from waitress import serve as waitress_serve

    from kiosk_ui.app import create_app
    from service.paths import get_paths

    pin = None
    if dev_token:
        from provisioning.devtoken import ensure_dev_token

        pin = ensure_dev_token(get_paths().ensure()).pin
    app = create_app()
    settings = app.config["KIOSK"]
    print(f"sohoa kiosk: http://{host}:{port}/  (citizen screen: http://{host}:{port}/citizen/)", flush=True)
    if settings.dev_accounts or pin:
        print("development login (DEVELOPMENT ONLY — never on a production box):", flush=True)
        for line in dev_login_lines(pin if settings.card_login else None):
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
    parser.add_argument("--no-dev-token", action="store_true", help="do not create the development token")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return serve(args.host, args.port, dev_token=not args.no_dev_token)


if __name__ == "__main__":
    sys.exit(main())
