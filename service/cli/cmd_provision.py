"""``sohoa provision``: the technician's one command on a new box (identity, config, tokens, devices)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the ``provision`` subcommand."""
    p: argparse.ArgumentParser = sub.add_parser(
        "provision", help="provision this box: config check, device identity + certificate, tokens, self-test, "
                          "TSA access, summary (run again until every line is OK)")
    p.add_argument("--config", type=Path, help="install this config.yaml (validated first)")
    p.add_argument("--cert", type=Path, help="the device certificate the province CA issued from this box's CSR")
    p.add_argument("--ca", type=Path, help="the province CA certificate (checked against --cert)")
    p.add_argument("--systemd-dropin", type=Path, default=None,
                   help="where to write the kiosk unit's TSA allowance (default "
                        "/etc/systemd/system/sohoa-kiosk.service.d/tsa.conf)")
    p.add_argument("--no-selftest", action="store_true", help="skip the device self-test")
    p.add_argument("--json", action="store_true", help="print the steps as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the steps and print the summary; the exit code is the first failing step's."""
    from provisioning.provision import KIOSK_DROPIN, provision
    from service.errors import ValidationError
    from service.paths import get_paths

    if args.ca is not None and args.cert is None:
        raise ValidationError("--ca", "is only used with --cert", remedy="give the device certificate too")
    report = provision(get_paths(), config=args.config, cert=args.cert, ca=args.ca,
                       dropin=args.systemd_dropin or KIOSK_DROPIN, selftest=not args.no_selftest)
    if args.json:
        print(json.dumps({"ok": int(report.exit_code) == 0, "steps": [s.to_dict() for s in report.steps],
                          "csr": str(report.csr_path) if report.csr_path else None}, ensure_ascii=False))
    else:
        print(report.table())
    return int(report.exit_code)
