"""``sohoa extract``: Art. 9 fields from page images (OCR engine), OCR JSON, or an ID card QR."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from service.domain.errors import ExitCode, InputError
from service.domain.fields import ART9_FIELDS
from service.extract.config import ExtractConfig
from service.extract.pipeline import extract_document
from service.extract.qr import CccdQr, parse_cccd_qr, read_cccd_qr_image
from service.extract.types import Extraction
from service.ocr.types import OcrPage

MAX_OCR_JSON_BYTES = 50 * 1024 * 1024


def register(subparsers: Any) -> None:
    """Add the ``extract`` subcommand."""
    p = subparsers.add_parser("extract", help="extract the Art. 9 fields of one document",
                              description="Read one document (its page images, or OCR JSON from 'sohoa ocr --json') "
                                          "and print its type and Art. 9 fields.")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="page images of one document, in order")
    p.add_argument("--ocr-json", action="append", type=Path, metavar="FILE",
                   help="OCR output ('sohoa ocr --json') to use instead of running the OCR engine")
    p.add_argument("--source", choices=("scanner", "camera"), default="scanner", help="how the images were taken")
    p.add_argument("--qr-text", metavar="PAYLOAD", help="chip ID card QR payload as read by a serial QR reader")
    p.add_argument("--qr-image", type=Path, metavar="FILE", help="photo of the chip ID card's QR code")
    p.add_argument("--json", action="store_true", help="print the JSON output contract")
    p.set_defaults(func=cmd_extract)


def _pages_from_json(path: Path) -> list[OcrPage]:
    try:
        if path.stat().st_size > MAX_OCR_JSON_BYTES:
            raise InputError(f"{path}: larger than {MAX_OCR_JSON_BYTES} bytes",
                             remedy="pass the OCR JSON of one document")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})", remedy="check the path") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not UTF-8 JSON ({exc})", remedy="pass the output of 'sohoa ocr --json'") from exc
    if isinstance(data, dict) and "pages" in data:
        data = data["pages"]
    raw_pages = data if isinstance(data, list) else [data]
    pages: list[OcrPage] = []
    for n, raw in enumerate(raw_pages, start=1):
        if isinstance(raw, dict) and "pages" in raw and isinstance(raw["pages"], list):
            pages.extend(_page(p, path, n) for p in raw["pages"])
        else:
            pages.append(_page(raw, path, n))
    if not pages:
        raise InputError(f"{path}: no pages in the OCR JSON", remedy="pass the output of 'sohoa ocr --json'")
    return pages


def _page(raw: Any, path: Path, n: int) -> OcrPage:
    try:
        return OcrPage.from_json(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: page {n} is not an OCR page ({type(exc).__name__}: {exc})",
                         remedy="each page needs width, height and lines [{text, box, confidence}]") from exc


def run_extract(args: argparse.Namespace, cfg: ExtractConfig) -> Extraction:
    """Do what ``sohoa extract`` does and return the extraction."""
    card: CccdQr | None = None
    if args.qr_text is not None:
        card = parse_cccd_qr(args.qr_text, max_bytes=cfg.qr_max_bytes)
    elif args.qr_image is not None:
        card = read_cccd_qr_image(args.qr_image, max_bytes=cfg.qr_max_bytes)
    pages: list[OcrPage] = []
    for path in args.ocr_json or []:
        pages.extend(_pages_from_json(path))
    images = [Path(i) for i in args.images] if not pages else []
    return extract_document(images=images, pages=pages, card=card, config=cfg, source=args.source)


def cmd_extract(args: argparse.Namespace) -> int:
    """``sohoa extract IMAGE... [--ocr-json FILE] [--qr-text P | --qr-image F] [--json]``."""
    from service.config import load_config
    from service.paths import get_paths

    cfg = load_config(get_paths().config).extract
    extraction = run_extract(args, cfg)
    if args.json:
        print(json.dumps(extraction.to_json(), ensure_ascii=False, indent=2))
    else:
        dt = extraction.document_type
        print(f"document type: {dt.code or '?'} {dt.name} ({dt.confidence:.2f})")
        for name in (*ART9_FIELDS, *sorted(extraction.metadata.extra)):
            fv = extraction.get(name)
            if fv is not None:
                print(f"  {name:<26} {fv.value}  [{fv.source}, {fv.confidence:.2f}]")
    for flag in extraction.flags:  # field names and kinds only: no personal data on stderr
        print(f"sohoa: review: {flag.field} ({flag.kind})", file=sys.stderr)
    return int(ExitCode.OK)
