"""Spine commands: ``digitize``, ``show``, ``list``, ``export``, ``audit verify`` and ``demo``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from service.capture import FileCamera, capture_all
from service.domain.errors import ExitCode, IntegrityError, ValidationError
from service.usecases.digitize import MANUAL_FIELDS, DigitizeRequest, digitize, manual_fields


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_digitize(args: argparse.Namespace) -> int:
    """``sohoa digitize PAGE_IMAGE... --owner ID --doc-type CODE``: store one paper document."""
    files = [Path(f) for f in args.images]
    sticky = []
    for n in args.sticky_note or []:
        if n < 2 or n > len(files):
            raise ValidationError("sticky_note", f"image number {n} is outside 2..{len(files)}",
                                  remedy="give the 1-based number of the image taken with the note on")
        sticky.append(n - 1)
    pages = capture_all(FileCamera(files), len(files))
    request = DigitizeRequest(
        pages=tuple(pages), document_type_code=args.doc_type, owner_id=args.owner,
        fields=manual_fields(args.field or []), declared_pages=args.declared_pages,
        mismatch_reason=args.mismatch_reason, duplex=args.duplex, sticky_notes=tuple(sticky), run_ocr=not args.no_ocr,
        extract_fields=not args.field and not args.no_extract and not args.no_ocr,
    )
    result = digitize(request)
    if args.json:
        _print_json(result.to_json())
    else:
        print(f"result code: {result.result_code}")
        print(f"PDF/A-2b:    {result.pdf}")
        print(f"sha256:      {result.sha256}")
        print(f"pages:       {result.pages}")
        print(f"outbox:      {result.outbox_state}")
    return int(ExitCode.OK)


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


def cmd_demo(args: argparse.Namespace) -> int:
    """``sohoa demo``: digitize the bundled sample dossier and print what a user needs."""
    from service.usecases.demo import run_demo

    demo = run_demo(sign=not args.no_sign, ocr=not args.no_ocr)
    r, final = demo.result, demo.final
    if args.json:
        _print_json({**r.to_json(), "final_sha256": final.document.pdf_sha256, "state": final.document.state.value,
                     "outbox": final.outbox_state, "exported_pdf": str(demo.exported_pdf),
                     "blank_backs": demo.blank_backs, "notes": list(demo.notes)})
        return int(ExitCode.OK)
    print("Sample dossier digitized (TT 01/2023 spine):")
    print(f"  result code : {r.result_code}")
    print(f"  PDF/A-2b    : {demo.exported_pdf}")
    print(f"  stored as   : {final.pdf}")
    print(f"  sha256      : {final.document.pdf_sha256}")
    print(f"  pages       : {r.pages} ({demo.blank_backs} blank back(s) kept and marked)")
    print(f"  state       : {final.document.state.value}")
    print(f"  outbox      : {final.outbox_state} ({len(final.outbox)} version(s) queued for the province)")
    for note in demo.notes:
        print(f"  {note}")
    return int(ExitCode.OK)


def register(sub: Any) -> None:
    """Add the spine subcommands to the ``sohoa`` parser."""
    p = sub.add_parser("digitize", help="digitize page images into a stored, queued PDF/A document")
    p.add_argument("images", nargs="+", metavar="PAGE_IMAGE", help="page images in page order")
    p.add_argument("--owner", required=True, metavar="ID",
                   help="owner identifier (CCCD, tax code...); '' when none (then give the fallback fields)")
    p.add_argument("--doc-type", required=True, metavar="CODE", help="document type code, e.g. KQ.G15.000031")
    p.add_argument("--field", action="append", metavar="NAME=VALUE",
                   help="Art. 9 field (" + ", ".join(MANUAL_FIELDS) + ", or extra.<key>); repeatable")
    p.add_argument("--declared-pages", type=int, metavar="N", help="pages the officer counted on the paper")
    p.add_argument("--mismatch-reason", metavar="TEXT", help="why the captured count differs from --declared-pages")
    p.add_argument("--duplex", action="store_true", help="images alternate front/back of each sheet")
    p.add_argument("--sticky-note", type=int, action="append", metavar="N",
                   help="image N re-captures image N-1 with its sticky note on; repeatable")
    p.add_argument("--no-ocr", action="store_true",
                   help="skip OCR: no invisible text layer and no extraction (the PDF/A has images only)")
    p.add_argument("--no-extract", action="store_true",
                   help="without --field, fields are read by OCR + extraction (TT 01/2023 Art. 9); this skips it")
    p.add_argument("--json", action="store_true", help="print result_code, pdf, sha256, pages, queued as JSON")
    p.set_defaults(func=cmd_digitize)

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

    p = sub.add_parser("audit", help="audit log commands")
    audit_sub = p.add_subparsers(dest="audit_command", metavar="SUBCOMMAND")
    v = audit_sub.add_parser("verify", help="check the audit hash chain and the stored files")
    v.add_argument("--json", action="store_true")
    v.add_argument("--sweep", action="store_true",
                   help="first remove orphan files (no row names them) older than an hour, left by a crash")
    v.set_defaults(func=cmd_audit_verify)

    p = sub.add_parser("demo", help="digitize the bundled sample dossier (what 'make run' does)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-ocr", action="store_true", help="skip OCR, extraction and the text layer")
    p.add_argument("--no-sign", action="store_true", help="skip the development-token signatures")
    p.set_defaults(func=cmd_demo)
