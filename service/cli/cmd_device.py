"""Technician commands: ``sohoa config validate`` and ``sohoa device ...``.

``device``: selftest, capture, scan, read-qr, print-test, identity (init/csr/install-cert/show),
backup, verify-backup, restore, factory-reset.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from service.config import Config, load_config
from service.domain.errors import ExitCode
from service.paths import get_paths


def register(subparsers: Any) -> None:
    """Add the ``config`` and ``device`` command groups."""
    config = subparsers.add_parser("config", help="configuration checks")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    validate = config_sub.add_parser("validate", help="validate a config file; errors point at the line")
    validate.add_argument("file", nargs="?", type=Path, help="config file (default: $SOHOA_HOME/config.yaml)")
    validate.add_argument("--json", action="store_true", help="print the devices summary as JSON")
    validate.set_defaults(func=cmd_config_validate)

    device = subparsers.add_parser("device", help="device self-test, identity, backup, restore, reset")
    sub = device.add_subparsers(dest="device_command", metavar="ACTION", required=True)

    selftest = sub.add_parser("selftest", help="self-check every configured device")
    selftest.add_argument("--json", action="store_true")
    selftest.add_argument("--config", type=Path, help="config file (default: $SOHOA_HOME/config.yaml)")
    selftest.add_argument("--samples", type=Path, help="image folder for the files camera/scanner")
    selftest.add_argument("--timeout", type=float, default=10.0, help="seconds per device (default 10)")
    selftest.set_defaults(func=cmd_selftest)

    capture = sub.add_parser("capture", help="take one still with the configured camera")
    capture.add_argument("out", type=Path, help="output file (extension added from the image type if none)")
    capture.add_argument("--samples", type=Path, help="image folder for the files camera")
    capture.set_defaults(func=cmd_capture)
    scan = sub.add_parser("scan", help="scan the feeder with the configured scanner")
    scan.add_argument("out_dir", type=Path)
    scan.add_argument("--duplex", action="store_true")
    scan.add_argument("--dpi", type=int, default=300)
    scan.add_argument("--gray", action="store_true", help="grey instead of colour")
    scan.add_argument("--samples", type=Path, help="image folder for the files scanner")
    scan.set_defaults(func=cmd_scan)
    read_qr = sub.add_parser("read-qr", help="wait for one QR/barcode scan and print it")
    read_qr.add_argument("--timeout", type=float, default=30.0)
    read_qr.set_defaults(func=cmd_read_qr)
    sub.add_parser("print-test", help="print a test receipt").set_defaults(func=cmd_print_test)

    ident = sub.add_parser("identity", help="device key, CSR and certificate")
    isub = ident.add_subparsers(dest="identity_command", metavar="ACTION", required=True)
    init = isub.add_parser("init", help="generate the device key and a CSR (CN = identity.device_id)")
    init.add_argument("--force", action="store_true", help="replace an existing key")
    init.add_argument("--out", type=Path, help="also write the CSR to this file")
    init.set_defaults(func=cmd_identity_init)
    isub.add_parser("csr", help="print the pending CSR").set_defaults(func=cmd_identity_csr)
    install = isub.add_parser("install-cert", help="install the certificate the CA issued")
    install.add_argument("cert", type=Path)
    install.add_argument("--ca", type=Path, help="the issuing CA certificate (checked and installed)")
    install.set_defaults(func=cmd_identity_install)
    show = isub.add_parser("show", help="show the identity and enrolment state")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_identity_show)

    backup = sub.add_parser("backup", help="write a verified backup archive")
    backup.add_argument("dest", help="archive path, or a folder (existing, or ending in /) for a dated file")
    backup.set_defaults(func=cmd_backup)
    verify = sub.add_parser("verify-backup", help="check a backup archive without restoring")
    verify.add_argument("archive", type=Path)
    verify.set_defaults(func=cmd_verify_backup)
    restore = sub.add_parser("restore", help="verify a backup, then replace the current state with it")
    restore.add_argument("archive", type=Path)
    restore.add_argument("--yes", action="store_true", help="confirm replacing the current state")
    restore.set_defaults(func=cmd_restore)
    reset = sub.add_parser("factory-reset", help="delete all documents, database, tokens and logs")
    reset.add_argument("--yes", action="store_true", help="confirm the wipe")
    reset.add_argument("--keep-identity", action="store_true", help="keep the device key and certificate")
    reset.add_argument("--keep-config", action="store_true", help="keep config.yaml")
    reset.set_defaults(func=cmd_factory_reset)


def cmd_config_validate(args: argparse.Namespace) -> int:
    """Validate the file; print OK and the device drivers, or raise ConfigError with file:line."""
    from provisioning.config_check import device_summary, validate_config_file

    path = args.file or get_paths().config
    if args.file is None and not path.exists():
        print(f"{path}: no configuration file; the embedded defaults apply")
        return int(ExitCode.OK)
    config = validate_config_file(path)
    summary = device_summary(config)
    if args.json:
        print(json.dumps({"file": str(path), "valid": True, "devices": summary}))
    else:
        drivers = ", ".join(f"{k}={v or '-'}" for k, v in summary.items())
        print(f"{path}: OK ({drivers})")
    return int(ExitCode.OK)


def _sample_folder(config: Config, given: Path | None) -> Path | None:
    """``given``, else the kiosk's rendered sample pages when the files camera names no folder."""
    from provisioning.selftest import default_sample_folder

    return given if given is not None else default_sample_folder(config.devices, get_paths().home)


def cmd_capture(args: argparse.Namespace) -> int:
    """Capture one still to a file."""
    from provisioning.hwtools import capture_still

    config = load_config(get_paths().config)
    print(capture_still(config.devices, args.out, sample_folder=_sample_folder(config, args.samples)))
    return int(ExitCode.OK)


def cmd_scan(args: argparse.Namespace) -> int:
    """Scan the feeder into a folder."""
    from provisioning.hwtools import scan_pages

    config = load_config(get_paths().config)
    pages = scan_pages(config.devices, args.out_dir, duplex=args.duplex, dpi=args.dpi, color=not args.gray,
                       sample_folder=args.samples)
    print(f"{len(pages)} page(s) written to {args.out_dir}")
    return int(ExitCode.OK)


def cmd_read_qr(args: argparse.Namespace) -> int:
    """Print one scanned code (exit 7 NOT_FOUND when nothing was scanned in time)."""
    from provisioning.hwtools import read_one_code

    code = read_one_code(load_config(get_paths().config).devices, args.timeout)
    if code is None:
        print(f"no code scanned within {args.timeout:g} s", file=sys.stderr)
        return int(ExitCode.NOT_FOUND)
    print(code)
    return int(ExitCode.OK)


def cmd_print_test(args: argparse.Namespace) -> int:
    """Print a test receipt."""
    from provisioning.hwtools import print_test_receipt

    config = load_config(get_paths().config)
    paper = print_test_receipt(config.devices, config.identity.device_id)
    print(f"test receipt printed (paper {paper})")
    return int(ExitCode.OK)


def cmd_selftest(args: argparse.Namespace) -> int:
    """Run every device's self-check; exit 14 (DEVICE) when a fitted device fails."""
    from provisioning.config_check import validate_config_file
    from provisioning.selftest import all_ok, format_table, run_selftest

    config = validate_config_file(args.config) if args.config else load_config(get_paths().config)
    rows = run_selftest(config.devices, sample_folder=_sample_folder(config, args.samples), timeout_s=args.timeout)
    if args.json:
        print(json.dumps({"ok": all_ok(rows), "devices": [r.to_dict() for r in rows]}, ensure_ascii=False))
    else:
        print(format_table(rows))
    return int(ExitCode.OK if all_ok(rows) else ExitCode.DEVICE)


def cmd_identity_init(args: argparse.Namespace) -> int:
    """Generate key + CSR for the configured device id and print the CSR."""
    from provisioning.identity import create_identity

    paths = get_paths().ensure()
    ident = load_config(paths.config).identity
    csr = create_identity(paths, ident.device_id, ident.province_code, ident.office_name, force=args.force)
    if args.out:
        args.out.write_bytes(csr)
    sys.stdout.write(csr.decode())
    print(f"device key and CSR for {ident.device_id} written to {paths.pki}; send the CSR to the province CA",
          file=sys.stderr)
    return int(ExitCode.OK)


def cmd_identity_csr(args: argparse.Namespace) -> int:
    """Print the pending CSR."""
    from provisioning.identity import read_csr

    sys.stdout.write(read_csr(get_paths()).decode())
    return int(ExitCode.OK)


def cmd_identity_install(args: argparse.Namespace) -> int:
    """Check and install the signed certificate."""
    from provisioning.identity import install_certificate
    from service.domain.errors import InputError

    paths = get_paths().ensure()
    try:
        cert = args.cert.read_bytes()
        ca = args.ca.read_bytes() if args.ca else None
    except OSError as exc:
        raise InputError(f"cannot read {exc.filename}: {exc.strerror}", remedy="check the path") from exc
    info = install_certificate(paths, load_config(paths.config).identity.device_id, cert, ca)
    print(f"installed: {info.subject} (valid until {info.not_after})")
    return int(ExitCode.OK)


def cmd_identity_show(args: argparse.Namespace) -> int:
    """Show the enrolment state."""
    from provisioning.identity import show_identity

    info = show_identity(get_paths())
    if args.json:
        print(json.dumps(info.to_dict()))
    else:
        for key, value in info.to_dict().items():
            if value is not None:
                print(f"{key:16} {value}")
    return int(ExitCode.OK)


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a backup archive."""
    from provisioning.backup import create_backup

    dest = Path(args.dest)
    if args.dest.endswith(("/", os.sep)):
        dest.mkdir(parents=True, exist_ok=True)
    report = create_backup(get_paths(), dest)
    print(f"backup written: {report.archive} ({report.entries} entries, {report.total_bytes} bytes)")
    return int(ExitCode.OK)


def cmd_verify_backup(args: argparse.Namespace) -> int:
    """Verify an archive (exit 8 STORE when corrupt)."""
    from provisioning.backup import verify_backup

    report = verify_backup(args.archive)
    print(f"backup OK: {report.entries} entries, {report.total_bytes} bytes, made {report.created}")
    return int(ExitCode.OK)


def cmd_restore(args: argparse.Namespace) -> int:
    """Verify, then restore; the previous state is kept aside."""
    from provisioning.backup import restore_backup
    from provisioning.errors import ConfirmationRequired

    if not args.yes:
        raise ConfirmationRequired("restore replaces the database, files, config and identity of this box",
                                   remedy="stop the services, then re-run with --yes")
    report, aside = restore_backup(get_paths(), args.archive)
    print(f"restored {report.entries} entries from {args.archive}; previous state kept in {aside}")
    return int(ExitCode.OK)


def cmd_factory_reset(args: argparse.Namespace) -> int:
    """Wipe SOHOA_HOME (requires --yes)."""
    from provisioning.reset import factory_reset

    removed = factory_reset(get_paths(), yes=args.yes, keep_identity=args.keep_identity,
                            keep_config=args.keep_config)
    print(f"factory reset done; removed: {', '.join(removed) or 'nothing'}")
    return int(ExitCode.OK)
