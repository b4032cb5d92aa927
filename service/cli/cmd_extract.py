"""``sohoa extract``: Art. 9 fields from page images (OCR engine), OCR JSON, or an ID card QR."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from service.domain.errors import ExitCode, InputError, OcrError
from service.domain.fields import ART9_FIELDS
from service.extract.config import ExtractConfig
from service.extract.extractor import extract_pages
from service.extract.qr import CccdQr, merge_qr, parse_cccd_qr, qr_extraction, read_cccd_qr_image
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


def _ocr_images(images: list[Path], source: str) -> list[OcrPage]:
    from service.config import load_config
    from service.paths import get_paths

    try:
        from service.ocr.engine import get_engine
    except ImportError as exc:
        raise OcrError("the OCR engine is not installed in this build",
                       remedy="run 'sohoa ocr --json IMAGE > ocr.json' elsewhere and pass --ocr-json ocr.json") from exc
    engine = get_engine(load_config(get_paths().config).ocr)
    pages: list[OcrPage] = []
    for image in images:
        pages.extend(engine.read_file(image, source="camera" if source == "camera" else "scanner"))
    return pages


def _card_from_images(images: list[Path], cfg: ExtractConfig) -> CccdQr | None:
    """A chip ID card QR printed on one of the page images, if any (other QR codes are ignored)."""
    for image in images:
        try:
            return read_cccd_qr_image(image, max_bytes=cfg.qr_max_bytes)
        except InputError:
            continue
    return None


def run_extract(args: argparse.Namespace, cfg: ExtractConfig) -> Extraction:
    """Do what ``sohoa extract`` does and return the extraction (used by the CLI and tests)."""
    images = [Path(i) for i in args.images]
    card: CccdQr | None = None
    if args.qr_text is not None:
        card = parse_cccd_qr(args.qr_text, max_bytes=cfg.qr_max_bytes)
    elif args.qr_image is not None:
        card = read_cccd_qr_image(args.qr_image, max_bytes=cfg.qr_max_bytes)
    pages: list[OcrPage] = []
    for path in args.ocr_json or []:
        pages.extend(_pages_from_json(path))
    if images and not args.ocr_json:
        pages.extend(_ocr_images(images, args.source))
        if card is None:
            card = _card_from_images(images, cfg)
    if not pages:
        if card is None:
            raise InputError("nothing to extract from", remedy="give page images, --ocr-json FILE or a QR code")
        return qr_extraction(card)
    extraction = extract_pages(pages, config=cfg)
    return merge_qr(extraction, card) if card is not None else extraction


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
