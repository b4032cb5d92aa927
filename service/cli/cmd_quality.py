"""``sohoa quality IMAGE... [--source scanner|camera] --json``: live capture quality control of page images."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from service.capture.images import quality_report
from service.capture.quality import blocking
from service.config import load_config
from service.domain.errors import ExitCode, InputError
from service.paths import get_paths


def _read(path: Path, label: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{label}: file does not exist", remedy="check the path of the page image") from exc
    except OSError as exc:
        raise InputError(f"{label}: cannot be read ({exc.strerror})", remedy="check the file's permissions") from exc


def cmd_quality(args: argparse.Namespace) -> int:
    """Check every image; exit 0 when all are fine, 4 when one has a blocking problem, 3 when unreadable."""
    config = load_config(get_paths().config).capture
    pages: list[dict[str, Any]] = []
    refused = False
    for i, name in enumerate(args.images, start=1):
        label = f"page {i}"
        problems = quality_report(_read(Path(name), label), name=label, config=config, source=args.source)
        stop = blocking(problems)
        refused = refused or bool(stop)
        pages.append({"ok": not stop, "problems": [p.to_json() for p in problems]})
        if not args.json:
            verdict = "đạt" if not stop else "không đạt"
            print(f"{label}: {verdict}")
            for p in problems:
                print(f"  {p.kind} ({p.severity.value}): {p.message}")
    if args.json:
        print(json.dumps({"pages": pages}, ensure_ascii=False, indent=2))
    elif refused:
        print("sohoa: a page has a blocking quality problem; capture it again", file=sys.stderr)
    return int(ExitCode.QUALITY if refused else ExitCode.OK)


def register(sub: Any) -> None:
    """Add ``sohoa quality`` to the ``sohoa`` parser."""
    p = sub.add_parser("quality", help="check page images for blur, glare, cut-off, exposure, skew, resolution")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="page images")
    p.add_argument("--source", choices=("scanner", "camera"), default="scanner", help="how the pages were captured")
    p.add_argument("--json", action="store_true", help='print {"pages": [{"ok", "problems": [...]}]}')
    p.set_defaults(func=cmd_quality)
