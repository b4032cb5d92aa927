"""``sohoa sync run|once|status``: drain the outbox to the province gateway."""

from __future__ import annotations

import argparse
import json
import logging
import signal
from pathlib import Path
from types import FrameType
from typing import Any

from service.config import Config, load_config
from service.domain.errors import ExitCode
from service.paths import Paths, get_paths
from service.store.store import Store
from service.store.sync_state import SyncProgress
from service.sync import protocol as p
from service.sync.device import ask_province, make_worker, serving
from service.sync.worker import SyncWorker

log = logging.getLogger("sohoa.sync")


def register(sub: Any) -> None:
    """Add the ``sync`` command group."""
    parser = sub.add_parser("sync", help="send documents to the province gateway (MQTT 5, mutual TLS)")
    actions = parser.add_subparsers(dest="sync_action", metavar="ACTION")
    run = actions.add_parser("run", help="run the sync worker until stopped (SIGTERM)")
    run.add_argument("--max-seconds", type=float, help="stop after this long")
    run.add_argument("--heartbeat", type=Path,
                     help="file to keep the Unix time of the next loop beat in (the launcher's health check)")
    run.set_defaults(func=cmd_run)
    once = actions.add_parser("once", help="send everything pending, then exit")
    once.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    once.set_defaults(func=cmd_once)
    status = actions.add_parser("status", help="outbox and transfer state (JSON)")
    status.add_argument("--json", action="store_true", help="JSON output (the default; accepted for scripts)")
    status.set_defaults(func=cmd_status)
    lookup = actions.add_parser("lookup", help="ask the province for a reusable result paper (Art. 25.3)")
    lookup.add_argument("--procedure", required=True, help="procedure code (MaThuTuc)")
    lookup.add_argument("--result", required=True, action="append", metavar="CODE[:NUMBER_SYMBOL]",
                        help="result code, optionally with its number/symbol (repeatable)")
    lookup.add_argument("--owner", required=True, help="owner identifier (SoDinhDanhChuSoHuu) of the dossier")
    lookup.add_argument("--dossier", required=True,
                        help="dossier code (MaHoSo) this office holds for the owner: the province answers only then")
    lookup.add_argument("--timeout", type=float, default=15.0)
    lookup.set_defaults(func=cmd_lookup)
    parser.set_defaults(func=lambda args: (parser.print_help(), int(ExitCode.USAGE))[1])


def _worker(paths: Paths) -> tuple[SyncWorker, Store, SyncProgress, Config]:
    cfg = load_config(paths.config)
    worker, store, progress = make_worker(paths, cfg)
    return worker, store, progress, cfg


def _drive(args: argparse.Namespace, *, until_empty: bool, max_seconds: float | None) -> int:
    paths = get_paths().ensure()
    worker, store, progress, cfg = _worker(paths)

    def _stop(signum: int, frame: FrameType | None) -> None:
        worker.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    beat_file: Path | None = getattr(args, "heartbeat", None)
    if beat_file is not None:
        from service.durable import write_durable

        def beat(due: float) -> None:
            try:
                write_durable(beat_file, f"{due:.0f}\n".encode("ascii"), 0o600)
            except OSError as exc:
                log.warning("cannot write the heartbeat file: %s", exc.strerror)

        worker.heartbeat = beat
    try:
        with serving(paths, worker):  # the box's one link; look-ups of the kiosk and the CLI go through it
            stats = worker.run(cfg.sync.broker_host, cfg.sync.broker_port, max_seconds=max_seconds,
                               until_empty=until_empty)
        depth = worker.source.queue_depth()
    finally:
        progress.close()
        store.close()
    print(json.dumps({"delivered": stats.delivered, "rejected": stats.rejected, "retried": stats.retried,
                      "chunks": stats.chunks, "payload_bytes": stats.payload_bytes,
                      "link_failures": stats.link_failures, "queue": depth}))
    return int(ExitCode.OK) if not until_empty or depth == 0 else int(ExitCode.SYNC)


def cmd_run(args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT (or ``--max-seconds``)."""
    return _drive(args, until_empty=False, max_seconds=args.max_seconds)


def cmd_once(args: argparse.Namespace) -> int:
    """Drain the outbox; exit 0 when empty, else the SYNC exit code after ``--timeout``."""
    return _drive(args, until_empty=True, max_seconds=args.timeout)


def cmd_status(args: argparse.Namespace) -> int:
    """Print outbox counts per state, the versions still to send (``in_progress``; superseded rows are
    closed), those held for a signature, and the worker's counters (no personal data)."""
    paths = get_paths().ensure()
    with Store.open(paths) as store, store.sync_progress() as progress:
        print(json.dumps({"outbox": store.outbox_counts(), "in_progress": store.count_undelivered(),
                          "awaiting_signature": store.count_awaiting_signature(), "sync": progress.state(),
                          "last_delivered_at": store.last_delivered_at()}, sort_keys=True))
    return int(ExitCode.OK)


def cmd_lookup(args: argparse.Namespace) -> int:
    """Print the gateway's look-up answer as JSON (own store → bilateral → national portal)."""
    results = tuple((code, symbol or None) for code, _, symbol in (r.partition(":") for r in args.result))
    query = p.ReuseQuery(args.procedure, results, owner_id=args.owner, dossier_code=args.dossier)
    paths = get_paths().ensure()
    answer = ask_province(paths, load_config(paths.config), query, args.timeout)
    print(answer.encode().decode("utf-8"))
    if answer.error_code in (p.RATE_LIMITED, p.NOT_AUTHORISED):
        return int(ExitCode.PERMISSION)  # refused by the province: the answer's message says why
    return int(ExitCode.OK) if answer.hits else int(ExitCode.NOT_FOUND)
