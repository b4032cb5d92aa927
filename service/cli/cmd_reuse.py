"""``sohoa reuse find``: an owner's earlier papers to reuse (TT 01/2023 Art. 25.3: own store, then province)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from service.domain.errors import ExitCode, ValidationError
from service.domain.identifiers import parse_identifier
from service.sync.reuse_msgs import DOC_TYPE_RE, MAX_TYPES


def register(sub: Any) -> None:
    """Add the ``reuse`` command group."""
    parser = sub.add_parser("reuse", help="find an owner's earlier papers to reuse (own store, then province)")
    actions = parser.add_subparsers(dest="reuse_action", metavar="ACTION")
    find = actions.add_parser("find", help="list reusable papers: local, province, or the province's cached answer")
    find.add_argument("--owner", required=True, help="owner identifier (CCCD, tax code, ...)")
    find.add_argument("--doc-type", action="append", default=[], metavar="CODE",
                      help="document type code to look for (repeatable; none: every local paper)")
    find.add_argument("--dossier", help="dossier this office holds for the owner: the province answers only then")
    find.add_argument("--offline", action="store_true", help="do not ask the province; use its cached answers")
    find.add_argument("--json", action="store_true")
    find.set_defaults(func=cmd_find)
    parser.set_defaults(func=lambda args: (parser.print_help(), int(ExitCode.USAGE))[1])


def cmd_find(args: argparse.Namespace) -> int:
    """Print the candidates; exit 7 when there is none, 15 when the province refused (local ones still printed)."""
    from service.usecases.reuse import REFUSED, find_reuse

    owner = parse_identifier(args.owner, field_name="owner").value
    types = tuple(dict.fromkeys(t.strip() for t in args.doc_type))
    bad = next((t for t in types if not DOC_TYPE_RE.fullmatch(t)), None)
    if bad is not None or len(types) > MAX_TYPES:
        raise ValidationError("doc-type", "not a document type code" if bad is not None else
                              f"at most {MAX_TYPES} document types", remedy="e.g. --doc-type KQ.G15.000035")
    found = find_reuse(owner, types, dossier_id=args.dossier, offline=args.offline)
    rows = [c.to_json() for c in found.candidates]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        print(f"province: {found.province}", file=sys.stderr)
    else:
        for r in rows:
            age = f"  ({r['updated']})" if r["source"] != "local" and r["updated"] else ""
            print(f"{r['source']:<9} {r['result_code']}  {r['document_type'] or '-'}  {r['date'] or '-'}{age}")
        print(f"province: {found.province}")
    if found.province == REFUSED:
        return int(ExitCode.PERMISSION)
    return int(ExitCode.OK) if rows else int(ExitCode.NOT_FOUND)
