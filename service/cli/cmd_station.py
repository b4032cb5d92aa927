"""``sohoa station``: run the whole development station (what ``make run`` starts)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add the ``station`` subcommand."""
    p: argparse.ArgumentParser = sub.add_parser(
        "station", help="run the development station: local province (broker, PostgreSQL, gateway), sync worker, "
                        "simulated devices and the kiosk, supervised; Ctrl-C stops it")
    p.add_argument("--kiosk-port", type=int, default=8080, help="kiosk port on 127.0.0.1 (default 8080)")
    p.add_argument("--broker-port", type=int, default=18883, help="local Mosquitto port (default 18883)")
    p.add_argument("--pg-port", type=int, default=15432, help="local PostgreSQL port (default 15432)")
    p.add_argument("--province-web-port", type=int, default=8090, help="province view port (default 8090)")
    p.add_argument("--no-demo", action="store_true", help="do not digitize the sample dossier on a new home")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run until interrupted."""
    from provisioning.station import StationPorts, main_station
    from service.errors import ValidationError
    from service.paths import get_paths

    ports = StationPorts(kiosk=args.kiosk_port, broker=args.broker_port, postgres=args.pg_port,
                         province_web=args.province_web_port)
    for name, value in (("--kiosk-port", ports.kiosk), ("--broker-port", ports.broker), ("--pg-port", ports.postgres),
                        ("--province-web-port", ports.province_web)):
        if not 1024 <= value <= 65535:
            raise ValidationError(name, "must be a port between 1024 and 65535", remedy="choose another port")
    if len({ports.kiosk, ports.broker, ports.postgres, ports.province_web}) != 4:
        raise ValidationError("--kiosk-port", "the four ports must differ", remedy="choose four different ports")
    return main_station(get_paths(), ports, demo=not args.no_demo)
