"""``sohoa metrics``: print the box's Prometheus metrics (text exposition), read from the store now."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from service.domain.errors import ExitCode


def cmd_metrics(args: argparse.Namespace) -> int:
    """Write one scrape to stdout (or ``--out FILE``, e.g. node exporter's textfile collector)."""
    from service.durable import write_durable
    from service.usecases.metrics import exposition, signing_cards_present

    body = exposition(sysfs_root=args.sysfs_root, cards=None if args.no_cards else signing_cards_present)
    if args.out is not None:
        write_durable(args.out, body, 0o644)
    else:
        sys.stdout.write(body.decode("utf-8"))
    return int(ExitCode.OK)


def register(sub: Any) -> None:
    """Add ``metrics`` to the ``sohoa`` parser."""
    p = sub.add_parser("metrics", help="print Prometheus metrics (documents, outbox, sync, OCR, signing, disk, "
                                       "temperature, cards)")
    p.add_argument("--out", type=Path, help="write to this file instead of stdout (replaced atomically)")
    p.add_argument("--no-cards", action="store_true", help="leave out the signing-card presence probe")
    p.add_argument("--sysfs-root", type=Path, default=None,
                   help="read thermal zones under this folder instead of /sys (or $SOHOA_SYSFS_ROOT)")
    p.set_defaults(func=cmd_metrics)
