"""``sohoa procedures`` and ``sohoa dossier …``: the desk's dossier operations, scriptable.

``dossier open`` receives a dossier, ``request-papers`` asks for more papers, components are
digitized with ``sohoa digitize … --dossier ID --component CODE``, ``dossier result`` digitizes and
signs (officer + agency) the procedure's result, ``dossier return`` hands it back; ``withdraw`` /
``refuse`` end a dossier with a reason; ``list`` and ``show`` read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from service.capture import FileCamera, capture_all
from service.domain.errors import ExitCode
from service.domain.fields import FieldValue


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_procedures(args: argparse.Namespace) -> int:
    """``sohoa procedures [--json]``: the active catalogue's procedures, components and result type."""
    from service.usecases import dossier

    rows = dossier.procedures_json(dossier.catalogue())
    if args.json:
        _print_json(rows)
        return int(ExitCode.OK)
    for p in rows:
        print(f"{p['code']}  {p['name']}  (result: {p['result_type'] or '-'})")
        for c in p["components"]:
            print(f"    {c['code']:<10} {'required' if c['required'] else 'optional':<9} {c['name']}")
    return int(ExitCode.OK)


def _status_line(rec: Any, args: argparse.Namespace) -> int:
    if args.json:
        _print_json({"dossier": rec.id, "status": rec.status})
    else:
        print(f"dossier {rec.id}: {rec.status}")
    return int(ExitCode.OK)


def cmd_open(args: argparse.Namespace) -> int:
    """``sohoa dossier open --procedure CODE --owner ID [--json]``."""
    from service.usecases import dossier

    return _status_line(dossier.open_dossier(args.procedure, args.owner, actor=args.actor), args)


def cmd_request_papers(args: argparse.Namespace) -> int:
    """``sohoa dossier request-papers ID --reason TEXT --component CODE…``."""
    from service.usecases import dossier

    comps = tuple(c for group in args.component or [] for c in group)
    return _status_line(dossier.request_papers(args.id, args.reason, comps, actor=args.actor), args)


def cmd_return(args: argparse.Namespace) -> int:
    """``sohoa dossier return ID``: the result was handed back."""
    from service.usecases import dossier

    return _status_line(dossier.return_dossier(args.id, actor=args.actor), args)


def cmd_withdraw(args: argparse.Namespace) -> int:
    """``sohoa dossier withdraw ID --reason TEXT``."""
    from service.usecases import dossier

    return _status_line(dossier.withdraw(args.id, args.reason, actor=args.actor), args)


def cmd_refuse(args: argparse.Namespace) -> int:
    """``sohoa dossier refuse ID --reason TEXT``."""
    from service.usecases import dossier

    return _status_line(dossier.refuse(args.id, args.reason, actor=args.actor), args)


def cmd_list(args: argparse.Namespace) -> int:
    """``sohoa dossier list [--status S] [--owner ID] [--json]``."""
    from service.usecases import dossier

    rows = dossier.list_dossiers(status=args.status, owner_id=args.owner)
    if args.json:
        _print_json(rows)
        return int(ExitCode.OK)
    for r in rows:
        print(f"{r['dossier']}  {r['status'] or '-':<28} {r['procedure'] or '-':<12} {r['created_at']}")
    return int(ExitCode.OK)


def cmd_show(args: argparse.Namespace) -> int:
    """``sohoa dossier show ID [--json]``."""
    from service.usecases import dossier

    view = dossier.show(args.id)
    if args.json:
        _print_json(view)
        return int(ExitCode.OK)
    print(f"dossier {view['dossier']}  procedure {view['procedure']}  status {view['status']}")
    for h in view["history"]:
        print(f"  {h['at']}  {h['status']:<28} by {h['actor']}")
    for d in view["documents"]:
        print(f"  {d['kind']:<9} {d['result_code']}  {d['state']}")
    return int(ExitCode.OK)


def pin_provider(args: argparse.Namespace) -> Any:
    """The PIN for the officer + agency signatures: ``--pin-stdin``, ``$SOHOA_PIN`` (dev token) or a prompt."""
    from service.cli.cmd_sign import _pin_from_stdin, _pin_prompt
    from service.config import load_config
    from service.paths import get_paths
    from service.signing.pool import profile_for
    from service.signing.signer import SignatureRole
    from service.usecases.sign import env_pin_provider

    if args.pin_stdin:
        pin = _pin_from_stdin()
        return lambda: pin
    config = load_config(get_paths().config)
    return env_pin_provider(profile_for(config.signing, SignatureRole.OFFICER)) or _pin_prompt


def cmd_result(args: argparse.Namespace) -> int:
    """``sohoa dossier result ID PAGE… [--field …] [--declared-pages N] [--json]``."""
    from service.usecases import dossier
    from service.usecases.digitize import manual_fields

    files = [Path(f) for f in args.images]
    fields: dict[str, FieldValue] = manual_fields(args.field or [])
    paper = dossier.Paper(pages=tuple(capture_all(FileCamera(files), len(files))), fields=fields,
                          declared_pages=args.declared_pages, mismatch_reason=args.mismatch_reason,
                          run_ocr=not args.no_ocr, extract_fields=not args.field and not args.no_ocr)
    done = dossier.digitize_result(args.id, paper, pin_provider(args), actor=args.actor)
    out = done.to_json()
    if args.json:
        _print_json(out)
    else:
        print(f"result code: {out['result_code']}  (signed: "
              f"{', '.join(s.role.value for s in done.procedure.signatures)})")
        print(f"PDF/A-2b:    {out['pdf']}")
        print(f"sha256:      {out['sha256']}")
    return int(ExitCode.OK)


def register(sub: Any) -> None:
    """Add ``sohoa procedures`` and ``sohoa dossier …`` to the ``sohoa`` parser."""
    p = sub.add_parser("procedures", help="list the procedures of the active catalogue")
    p.add_argument("--json", action="store_true", help="print code, name, components, result_type as JSON")
    p.set_defaults(func=cmd_procedures)

    d = sub.add_parser("dossier", help="a dossier's life: open, request papers, result, return, list, show")
    dsub = d.add_subparsers(dest="dossier_command", metavar="ACTION")

    def action(name: str, helptext: str, func: Any, *, with_id: bool = True) -> argparse.ArgumentParser:
        a = dsub.add_parser(name, help=helptext)
        if with_id:
            a.add_argument("id", metavar="ID", help="dossier code, e.g. 000.00.70.H99-261202-0001")
        a.add_argument("--actor", default="officer", help="who acts (recorded in the history and the audit)")
        a.add_argument("--json", action="store_true", help="print the outcome as JSON")
        a.set_defaults(func=func)
        return a

    a = action("open", "receive a dossier for an owner under a procedure", cmd_open, with_id=False)
    a.add_argument("--procedure", required=True, metavar="CODE", help="procedure code (see 'sohoa procedures')")
    a.add_argument("--owner", required=True, metavar="ID", help="owner identifier (CCCD, tax code...)")
    a = action("request-papers", "ask for additional papers (with the reason)", cmd_request_papers)
    a.add_argument("--reason", required=True, metavar="TEXT", help="why the papers are needed")
    a.add_argument("--component", action="append", nargs="+", metavar="CODE", help="component code(s) asked for")
    action("return", "record that the result was handed back", cmd_return)
    a = action("withdraw", "the applicant withdrew the dossier", cmd_withdraw)
    a.add_argument("--reason", required=True, metavar="TEXT")
    a = action("refuse", "the office refused the dossier", cmd_refuse)
    a.add_argument("--reason", required=True, metavar="TEXT")
    a = action("list", "dossiers, newest first", cmd_list, with_id=False)
    a.add_argument("--status", metavar="S", help="only dossiers in this status")
    a.add_argument("--owner", metavar="ID", help="only dossiers of this owner")
    action("show", "one dossier: history and documents", cmd_show)
    a = action("result", "digitize the procedure's result and sign it (officer + agency)", cmd_result)
    a.add_argument("images", nargs="+", metavar="PAGE_IMAGE", help="page images of the result, in order")
    a.add_argument("--field", action="append", metavar="NAME=VALUE", help="Art. 9 field; repeatable")
    a.add_argument("--declared-pages", type=int, metavar="N", help="pages the officer counted on the paper")
    a.add_argument("--mismatch-reason", metavar="TEXT", help="why the captured count differs")
    a.add_argument("--no-ocr", action="store_true", help="skip OCR and extraction")
    a.add_argument("--pin-stdin", action="store_true", help="read the card PIN from standard input")
    d.set_defaults(func=lambda _args: (d.print_help(), int(ExitCode.USAGE))[1])
