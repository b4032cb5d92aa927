"""``sohoa digitize``: page images through the spine (capture → extraction → PDF/A → store → outbox)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from service.capture import FileCamera, capture_all
from service.domain.errors import ExitCode, ValidationError
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
    if (args.dossier is None) != (args.component is None):
        raise ValidationError("dossier", "--dossier and --component go together",
                              remedy="give both to digitize a component of a dossier, or neither")
    if args.dossier is None and (args.owner is None or args.doc_type is None):
        raise ValidationError("owner" if args.owner is None else "doc_type", "is required without --dossier",
                              remedy="give --owner ID and --doc-type CODE")
    pages = [dataclasses.replace(p, source=args.source) for p in capture_all(FileCamera(files), len(files))]
    if args.dossier is not None:
        return _into_dossier(args, tuple(pages), sticky)
    request = DigitizeRequest(
        pages=tuple(pages), document_type_code=args.doc_type, owner_id=args.owner,
        fields=manual_fields(args.field or []), declared_pages=args.declared_pages,
        mismatch_reason=args.mismatch_reason, duplex=args.duplex, sticky_notes=tuple(sticky), run_ocr=not args.no_ocr,
        extract_fields=not args.field and not args.no_extract and not args.no_ocr,
    )
    result = digitize(request)
    for page_no, kind, message in result.warnings:
        print(f"sohoa: warning: page {page_no}: {kind}: {message}", file=sys.stderr)
    if args.json:
        _print_json(result.to_json())
    else:
        print(f"result code: {result.result_code}")
        print(f"PDF/A-2b:    {result.pdf}")
        print(f"sha256:      {result.sha256}")
        print(f"pages:       {result.pages}")
        print(f"outbox:      {result.outbox_state}")
    return int(ExitCode.OK)


def _into_dossier(args: argparse.Namespace, pages: tuple[Any, ...], sticky: list[int]) -> int:
    """A component of dossier ``--dossier`` through the spine (type from the component template)."""
    from service.usecases.dossier import Paper, attach_component

    paper = Paper(pages=pages, fields=manual_fields(args.field or []), declared_pages=args.declared_pages,
                  mismatch_reason=args.mismatch_reason, duplex=args.duplex, sticky_notes=tuple(sticky),
                  run_ocr=not args.no_ocr, extract_fields=not args.field and not args.no_extract and not args.no_ocr)
    done = attach_component(args.dossier, args.component, paper, document_type_code=args.doc_type,
                            owner_id=args.owner)
    out = done.to_json()
    if args.json:
        _print_json({**out, "owner_differs": done.owner_differs})
    else:
        print(f"result code: {out['result_code']}")
        print(f"PDF/A-2b:    {out['pdf']}")
        print(f"sha256:      {out['sha256']}")
        print(f"pages:       {out['pages']}")
        if done.owner_differs:
            print("warning:     the owner identifier read on the paper is not the dossier's owner")
    return int(ExitCode.OK)


def register(sub: Any) -> None:
    """Add ``sohoa digitize`` to the ``sohoa`` parser."""
    p = sub.add_parser("digitize", help="digitize page images into a stored, queued PDF/A document")
    p.add_argument("images", nargs="+", metavar="PAGE_IMAGE", help="page images in page order")
    p.add_argument("--owner", metavar="ID",
                   help="owner identifier (CCCD, tax code...); '' when none (then give the fallback fields); "
                        "with --dossier: the dossier's owner")
    p.add_argument("--doc-type", metavar="CODE", help="document type code, e.g. KQ.G15.000031; with --component: "
                   "from codes.component_type_template when left out")
    p.add_argument("--dossier", metavar="ID", help="store the paper as a component of this dossier")
    p.add_argument("--component", metavar="CODE", help="the dossier component this paper is (with --dossier)")
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
    p.add_argument("--source", choices=("scanner", "camera"), default="scanner",
                   help="how the pages were captured (selects the quality checks)")
    p.add_argument("--json", action="store_true", help="print result_code, pdf, sha256, pages, queued as JSON")
    p.set_defaults(func=cmd_digitize)
