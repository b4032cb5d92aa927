"""``sohoa-province-web``: serve the province view with waitress (one replica; run as many as needed)."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import psycopg

from service.domain.errors import ConfigError, ExitCode, SohoaError

from .config import hash_password, load_web_config

log = logging.getLogger("sohoa.province.web")
LISTEN_RE = re.compile(r"(?P<host>[0-9A-Za-z.\-]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})")


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    ap = argparse.ArgumentParser(prog="sohoa-province-web",
                                 description="province view: devices, documents received, owner look-ups")
    ap.add_argument("--dsn", default=os.environ.get("SOHOA_GW_DSN", ""),
                    help="the gateway's PostgreSQL DSN (or $SOHOA_GW_DSN)")
    ap.add_argument("--config", type=Path, help="web.yaml: accounts, roles, session secret")
    ap.add_argument("--listen", default="127.0.0.1:8090", help="HOST:PORT (default 127.0.0.1:8090)")
    ap.add_argument("--replica-id", default=f"web-{os.getpid()}", help="name of this replica in the look-up log")
    ap.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    ap.add_argument("--hash-password", action="store_true",
                    help="read a password (stdin, or a prompt on a terminal) and print its web.yaml hash")
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` → (host, port); raises ``ConfigError``."""
    m = LISTEN_RE.fullmatch(text)
    if not m or not 1 <= int(m.group("port")) <= 65535:
        raise ConfigError(f"--listen {text!r} is not HOST:PORT", remedy="e.g. --listen 127.0.0.1:8090")
    return m.group("host").strip("[]"), int(m.group("port"))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.hash_password:
        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
        if not password:
            print("sohoa-province-web: error: empty password", file=sys.stderr)
            return int(ExitCode.USAGE)
        print(hash_password(password))
        return int(ExitCode.OK)
    from waitress import serve

    from .app import create_app
    from .queries import ViewDb

    try:
        if not args.dsn:
            raise ConfigError("no PostgreSQL DSN", remedy="pass --dsn or set SOHOA_GW_DSN")
        if args.config is None:
            raise ConfigError("no --config", remedy="pass --config web.yaml (accounts, roles, session secret)")
        host, port = parse_listen(args.listen)
        cfg = load_web_config(args.config)
        db = ViewDb(args.dsn, args.replica_id)
        db.create_schema()
    except SohoaError as exc:
        print(f"sohoa-province-web: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except psycopg.OperationalError as exc:
        print(f"sohoa-province-web: error: database unavailable ({exc.__class__.__name__})", file=sys.stderr)
        return int(ExitCode.STORE)
    log.info("province view %s on http://%s:%d/ (%d accounts)", args.replica_id, host, port, len(cfg.users))
    serve(create_app(cfg, db), host=host, port=port, threads=max(1, args.threads), ident="sohoa-province-web")
    return int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
