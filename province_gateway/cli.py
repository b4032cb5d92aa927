"""``sohoa-gateway``: the reference province gateway (run several replicas on one broker)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import psycopg

from service.domain.errors import ExitCode, SohoaError
from service.sync import protocol as p

from .mqtt import GatewayTls
from .policy import Limits
from .reuse import Resolver
from .service import GatewayReplica, GatewaySettings, StaticResolver
from .verify import SignaturePolicy

log = logging.getLogger("sohoa.gateway")


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    ap = argparse.ArgumentParser(prog="sohoa-gateway", description="sohoa province gateway (MQTT 5 → PostgreSQL)")
    ap.add_argument("--broker-host", default="127.0.0.1")
    ap.add_argument("--broker-port", type=int, default=8883)
    ap.add_argument("--ca", type=Path, help="CA bundle of the broker certificate")
    ap.add_argument("--cert", type=Path, help="gateway client certificate (its CN is its broker identity)")
    ap.add_argument("--key", type=Path, help="gateway client key")
    ap.add_argument("--plain", action="store_true", help="no TLS (development only)")
    ap.add_argument("--dsn", default=os.environ.get("SOHOA_GW_DSN", ""), help="PostgreSQL DSN (or $SOHOA_GW_DSN)")
    ap.add_argument("--files", type=Path, required=True, help="content-addressed file store folder")
    ap.add_argument("--replica-id", default=f"gw-{os.getpid()}",
                    help="name of this replica in logs and events (the broker takes the client id from the "
                         "certificate CN: give each replica its own certificate)")
    ap.add_argument("--group", default="gw", help="shared subscription group")
    ap.add_argument("--province", default="+", help="province code to serve (default: all)")
    ap.add_argument("--signatures", choices=[s.value for s in SignaturePolicy], default="require")
    ap.add_argument("--trust-roots", type=Path, help="PEM bundle of the signing CAs (required unless --dev-trust-any)")
    ap.add_argument("--dev-trust-any", action="store_true",
                    help="DEVELOPMENT ONLY: without --trust-roots, accept any intact signature (e.g. self-signed)")
    ap.add_argument("--session-expiry", type=int, default=0, help="MQTT session expiry of this replica (s)")
    ap.add_argument("--keepalive", type=int, default=5, help="MQTT keep-alive (s): a dead link is seen in 1.5x")
    d = Limits()
    ap.add_argument("--max-file-bytes", type=int, default=d.max_file_bytes, help="largest declared file")
    ap.add_argument("--max-chunks", type=int, default=d.max_chunks, help="most chunks per file")
    ap.add_argument("--max-need", type=int, default=d.max_need, help="chunk numbers per `need` answer")
    ap.add_argument("--max-open-transfers", type=int, default=d.max_open_transfers,
                    help="incomplete transfers per device")
    ap.add_argument("--max-open-bytes", type=int, default=d.max_open_bytes,
                    help="declared bytes of a device's incomplete transfers")
    ap.add_argument("--transfer-ttl", type=float, default=d.transfer_ttl_s,
                    help="seconds an idle incomplete transfer is kept")
    ap.add_argument("--reuse-per-minute", type=float, default=d.reuse_per_minute, help="look-ups per device")
    ap.add_argument("--max-message-bytes", type=int, default=p.MAX_CHUNK_BYTES + 64 * 1024)
    ap.add_argument("--bilateral-index", type=Path, help="JSON mirror of a bilateral system (reuse look-ups)")
    ap.add_argument("--national-index", type=Path, help="JSON mirror of the national portal (reuse look-ups)")
    ap.add_argument("--dossier-index", type=Path,
                    help="JSON export of the one-stop-shop system's dossiers (who may look up whose papers)")
    ap.add_argument("--max-seconds", type=float, help="stop after this long (tests)")
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap


def settings_from_args(args: argparse.Namespace) -> GatewaySettings:
    """Validate options into settings (raises ``ConfigError``)."""
    from service.domain.errors import ConfigError

    if not args.dsn:
        raise ConfigError("no PostgreSQL DSN", remedy="pass --dsn or set SOHOA_GW_DSN")
    tls = None
    if not args.plain:
        if not (args.ca and args.cert and args.key):
            raise ConfigError("mutual TLS needs --ca, --cert and --key", remedy="give the three files, or --plain")
        tls = GatewayTls(args.ca, args.cert, args.key)
    resolvers: list[Resolver] = []
    if args.bilateral_index:
        resolvers.append(StaticResolver(p.ReuseSource.BILATERAL, args.bilateral_index))
    if args.national_index:
        resolvers.append(StaticResolver(p.ReuseSource.NATIONAL, args.national_index))
    limits = Limits(max_file_bytes=args.max_file_bytes, max_chunks=args.max_chunks, max_need=max(1, args.max_need),
                    max_open_transfers=args.max_open_transfers, max_open_bytes=args.max_open_bytes,
                    transfer_ttl_s=args.transfer_ttl, reuse_per_minute=args.reuse_per_minute)
    return GatewaySettings(broker_host=args.broker_host, broker_port=args.broker_port, tls=tls, dsn=args.dsn,
                           files_root=args.files, replica_id=args.replica_id, group=args.group, province=args.province,
                           signatures=SignaturePolicy(args.signatures), trust_roots=args.trust_roots,
                           dev_trust_any=args.dev_trust_any, max_message_bytes=args.max_message_bytes,
                           resolvers=resolvers, session_expiry_s=args.session_expiry, keepalive_s=args.keepalive,
                           limits=limits)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sohoa-gateway``; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        settings = settings_from_args(args)
        replica = GatewayReplica(settings)
        if args.dossier_index:
            from .db import load_dossiers

            log.info("imported %d dossiers", load_dossiers(settings.dsn, args.dossier_index))
    except SohoaError as exc:
        print(f"sohoa-gateway: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except psycopg.OperationalError as exc:
        print(f"sohoa-gateway: error: cannot import the dossiers ({exc.__class__.__name__})", file=sys.stderr)
        return int(ExitCode.STORE)

    def _stop(signum: int, frame: FrameType | None) -> None:
        replica.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    replica.run(args.max_seconds)
    return int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
