"""``sohoa demo``: the bundled sample dossier through the spine (what ``make run`` does)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from service.domain.errors import ExitCode


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


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
    """Add ``demo`` to the ``sohoa`` parser."""
    p = sub.add_parser("demo", help="digitize the bundled sample dossier (what 'make run' does)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-ocr", action="store_true", help="skip OCR, extraction and the text layer")
    p.add_argument("--no-sign", action="store_true", help="skip the development-token signatures")
    p.set_defaults(func=cmd_demo)
