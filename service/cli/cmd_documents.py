"""Stored documents: ``sohoa show``, ``sohoa list`` and ``sohoa export``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from service.domain.errors import ExitCode


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_show(args: argparse.Namespace) -> int:
    """``sohoa show CODE [--json]``: one stored document."""
    from service.usecases.documents import show_document

    view = show_document(args.code)
    data = view.to_json()
    if args.json:
        _print_json(data)
        return int(ExitCode.OK)
    print(f"result code:  {data['result_code']}")
    print(f"type:         {data['document_type_code']}")
    print(f"state:        {data['state']}")
    print(f"PDF:          {data['pdf']}")
    print(f"sha256:       {data['sha256']}")
    print(f"pages:        {data['pages']} (declared {data['declared_pages'] or '-'})")
    if data["mismatch_reason"]:
        print(f"page count mismatch reason: {data['mismatch_reason']}")
    print(f"outbox:       {data['outbox_state']}")
    for name, fv in data["metadata"]["fields"].items():
        if name == "extra":
            for key, extra in fv.items():
                print(f"  extra.{key}: {extra['value']} [{extra['source']}]")
        elif fv:
            print(f"  {name}: {fv['value']} [{fv['source']} {fv['confidence']}]")
    return int(ExitCode.OK)


def cmd_list(args: argparse.Namespace) -> int:
    """``sohoa list``: stored documents, newest first."""
    from service.usecases.documents import list_documents

    views = list_documents()
    if args.json:
        _print_json([{"result_code": v.document.result_code, "pages": v.document.page_count,
                      "state": v.document.state.value, "outbox": v.outbox_state,
                      "created_at": v.document.created_at} for v in views])
        return int(ExitCode.OK)
    if not views:
        print("no documents stored yet")
        return int(ExitCode.OK)
    for v in views:
        d = v.document
        print(f"{d.result_code}\t{d.page_count} p\t{d.state.value}\toutbox {v.outbox_state}\t{d.created_at[:19]}")
    return int(ExitCode.OK)


def cmd_export(args: argparse.Namespace) -> int:
    """``sohoa export CODE DIR``: copy the PDF and a metadata JSON file into DIR."""
    from service.usecases.documents import export_document

    out = export_document(args.code, Path(args.directory))
    print(out.pdf)
    print(out.metadata)
    return int(ExitCode.OK)


def register(sub: Any) -> None:
    """Add ``show``, ``list`` and ``export`` to the ``sohoa`` parser."""
    p = sub.add_parser("show", help="show one stored document")
    p.add_argument("code", metavar="CODE", help="result code (or document id)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("list", help="list stored documents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("export", help="copy a document's PDF and metadata into a folder")
    p.add_argument("code", metavar="CODE")
    p.add_argument("directory", metavar="DIR")
    p.set_defaults(func=cmd_export)
