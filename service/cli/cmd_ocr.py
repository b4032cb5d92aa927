"""``sohoa ocr`` (read page images) and ``sohoa synth`` (render sample administrative pages)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from service.domain.errors import InputError


def register(subparsers: Any) -> None:
    """Add the ``ocr`` and ``synth`` subcommands."""
    p = subparsers.add_parser("ocr", help="read Vietnamese text from page images (PNG, JPEG, TIFF)")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files; every page of a TIFF is read")
    p.add_argument("--json", action="store_true", help='print {"pages": [{"width","height","lines": [...]}]}')
    p.add_argument("--source", choices=["scanner", "camera"], default="scanner",
                   help="camera: find the page outline, fix perspective and light first")
    p.set_defaults(func=cmd_ocr)

    s = subparsers.add_parser("synth", help="render sample Vietnamese administrative pages with ground truth")
    s.add_argument("out", type=Path, nargs="?", metavar="FOLDER", help="where to write PNG pages and .truth.json")
    s.add_argument("--doc", action="append", help="sample id (repeatable; default: all samples)")
    s.add_argument("--dpi", type=int, default=300, choices=[150, 200, 300])
    s.add_argument("--font", default="liberation", choices=["liberation", "dejavu", "noto"])
    s.add_argument("--condition", default="clean", choices=["clean", "scanner", "phone"])
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--list", action="store_true", help="list the sample ids and exit")
    s.set_defaults(func=cmd_synth)


def cmd_ocr(args: argparse.Namespace) -> int:
    """Read each image and print its text (or the JSON contract with ``--json``)."""
    from service.config import load_config
    from service.ocr.engine import get_engine
    from service.paths import get_paths

    engine = get_engine(load_config(get_paths().config).ocr)
    pages = []
    for name in args.images:
        pages.extend(engine.read_file(Path(name), source=args.source))
    if args.json:
        json.dump({"pages": [p.to_json() for p in pages]}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for n, page in enumerate(pages, start=1):
            if len(pages) > 1:
                print(f"--- page {n} ---")
            for line in page.lines:
                print(line.text)
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    """Render sample documents to ``FOLDER/<id>-p<N>.png`` with ``.truth.json`` ground truth."""
    from service.synth.render import render_document
    from service.synth.samples import sample_document, sample_documents

    if args.list:
        for doc in sample_documents():
            print(f"{doc.id}\t{doc.kind}\t{doc.title}")
        return 0
    if args.out is None:
        raise InputError("no output folder given", remedy="sohoa synth FOLDER [--doc ID] (see --list)")
    docs = [sample_document(d) for d in args.doc] if args.doc else sample_documents()
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {args.out}: {exc}", remedy="choose a writable folder") from exc
    for doc in docs:
        for page in render_document(doc, dpi=args.dpi, font=args.font, condition=args.condition, seed=args.seed):
            stem = args.out / f"{doc.id}-p{page.page_number}"
            page.image.save(stem.with_suffix(".png"), dpi=(page.dpi, page.dpi))
            truth = {"dpi": page.dpi, "condition": page.condition, "font": page.font,
                     "lines": [{"text": ln.text, "box": list(ln.box), "role": ln.role} for ln in page.lines]}
            text = json.dumps(truth, ensure_ascii=False, indent=1)
            stem.with_suffix(".truth.json").write_text(text, encoding="utf-8")
            print(stem.with_suffix(".png"))
    return 0
