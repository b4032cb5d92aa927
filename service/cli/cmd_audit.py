"""``sohoa audit verify``: the audit chain, the rows it binds, the signed head and every stored file;
``sohoa audit checkpoint``: sign a head that lags (the token was absent)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from service.domain.errors import ExitCode, IntegrityError


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """``sohoa audit verify [--sweep]``: the audit chain, the rows it binds, the signed head, every file."""
    from service.usecases.documents import sweep_orphan_files, verify_integrity

    swept = sweep_orphan_files() if args.sweep else []
    report = verify_integrity()
    if args.json:
        _print_json({"ok": report.ok, "audit_rows": report.audit_rows, "documents": report.documents,
                     "problems": list(report.problems), "orphans": list(report.orphans), "notes": list(report.notes),
                     "swept": len(swept)})
    if not report.ok:
        for problem in report.problems:
            print(f"FAIL {problem}", file=sys.stderr)
        raise IntegrityError(f"integrity check failed: {len(report.problems)} problem(s)",
                             remedy="do not use this store until a technician restores it from backup")
    if not args.json:
        print(f"OK: audit chain of {report.audit_rows} rows intact; "
              f"{report.documents} documents with all files present and their rows as the chain recorded")
        if swept:
            print(f"swept {len(swept)} orphan file(s)")
        for note in report.notes:
            print(f"note: {note}")
    return int(ExitCode.OK)


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    """``sohoa audit checkpoint``: sign the current audit head with the configured signer (exit 12: token absent)."""
    from service.usecases.audit_key import checkpoint_now

    seq, label = checkpoint_now()
    print(f"OK: audit head at row {seq} signed by {label}")
    return int(ExitCode.OK)


def register(sub: Any) -> None:
    """Add ``audit verify`` to the ``sohoa`` parser."""
    p = sub.add_parser("audit", help="audit log commands")
    audit_sub = p.add_subparsers(dest="audit_command", metavar="SUBCOMMAND")
    v = audit_sub.add_parser("verify", help="check the audit hash chain and the stored files")
    v.add_argument("--json", action="store_true")
    v.add_argument("--sweep", action="store_true",
                   help="first remove orphan files (no row names them) older than an hour, left by a crash")
    v.set_defaults(func=cmd_audit_verify)
    c = audit_sub.add_parser("checkpoint", help="sign the current audit head now (after the device token was absent)")
    c.set_defaults(func=cmd_audit_checkpoint)
