"""Signing commands: ``sign``, ``verify``, ``token init-dev``, ``token status``."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from service.config import load_config
from service.domain.errors import ExitCode, InputError, TokenError
from service.paths import get_paths
from service.signing.signer import PinProvider, SignatureRole


def _pin_from_stdin() -> str:
    line = sys.stdin.readline()
    pin = line.rstrip("\r\n")
    if not pin:
        raise TokenError("no PIN on standard input", remedy="pipe the PIN followed by a newline, or omit --pin-stdin")
    return pin


def _pin_prompt() -> str:
    if not sys.stdin.isatty():
        raise TokenError("the PIN is needed but there is no terminal to ask it on",
                         remedy="run interactively, or pass --pin-stdin and pipe the PIN")
    return getpass.getpass("Card PIN: ")


def cmd_sign(args: argparse.Namespace) -> int:
    """``sohoa sign CODE [--role officer|agency] [--pin-stdin]``: the spine's signing step on a stored document."""
    from service.signing.pool import profile_for
    from service.usecases.procedure import SignStep, sign
    from service.usecases.sign import env_pin_provider

    paths = get_paths()
    config = load_config(paths.config)
    role = SignatureRole(args.role)
    provider: PinProvider | None
    if args.pin_stdin:
        provider = _pin_from_stdin
    else:
        provider = env_pin_provider(profile_for(config.signing, role)) or _pin_prompt
    (outcome,) = sign(args.code, SignStep((role,), provider, actor=f"cli:{role.value}"), paths=paths, config=config)
    kind = "PAdES B-T (timestamped)" if outcome.timestamped else "PAdES B-B (offline; timestamp can be added later)"
    print(f"signed {outcome.code} as {outcome.role.value}: {outcome.signer}, {outcome.signing_time}, {kind}")
    print(f"sha256: {outcome.pdf_sha256}")
    return int(ExitCode.OK)


def cmd_verify(args: argparse.Namespace) -> int:
    """``sohoa verify FILE.pdf [--json] [--ca-bundle PEM | --no-trust]``: check signatures and PDF/A.

    With ``--no-trust`` no CA is needed: PDF/A-2b and every signature's integrity and cryptographic
    validity are checked (exit 9 if not PDF/A-2b, 11 if a signature is broken), trust is not.
    """
    from service.signing.verify import load_trust_roots, verify_pdf

    paths = get_paths()
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise InputError(f"{args.file}: cannot be read ({exc.strerror})", remedy="check the path") from exc
    if args.no_trust:
        report = verify_pdf(data, [])
    else:
        config = load_config(paths.config)
        bundle = Path(args.ca_bundle) if args.ca_bundle else (config.signing.ca_bundle or paths.pki / "dev-trust.pem")
        report = verify_pdf(data, load_trust_roots(bundle))
    trusting = not args.no_trust
    if args.json:
        out = report.to_json()
        if not trusting:
            out["trust_checked"] = False
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(f"PDF/A: {report.pdfa or 'not PDF/A-2b'}")
        if not trusting:
            print("trust: not checked (--no-trust)")
        if not report.signatures:
            print("no signatures")
        for n, s in enumerate(report.signatures, start=1):
            if trusting:
                verdict = "VALID" if s.valid and s.trusted else ("valid, NOT trusted" if s.valid else "INVALID")
            else:
                verdict = "INTACT and VALID" if s.valid else ("intact, INVALID" if s.intact else "ALTERED")
            print(f"{n}. {verdict}: {s.signer} at {s.signing_time}; intact={s.intact} "
                  f"timestamped={s.timestamped} page={s.page} box={s.box}")
    if not trusting:
        if report.pdfa is None:
            return int(ExitCode.PDF)
        return int(ExitCode.OK if all(s.valid for s in report.signatures) else ExitCode.SIGNING)
    all_good = all(s.valid and s.trusted for s in report.signatures)
    return int(ExitCode.OK if all_good else ExitCode.SIGNING)


def cmd_token_init_dev(args: argparse.Namespace) -> int:
    """``sohoa token init-dev``: create the development PKI and SoftHSM2 tokens (idempotent)."""
    from provisioning.devtoken import DevTokenError, ensure_dev_token

    try:
        info = ensure_dev_token(get_paths())
    except DevTokenError as exc:
        raise TokenError(str(exc), remedy="apt-get install softhsm2 opensc") from exc
    print("DEVELOPMENT tokens ready (never use them for real documents)")
    print(f"  officer token: {info.officer_token}  ({info.officer_name})")
    print(f"  agency token:  {info.agency_token}  ({info.agency_name})")
    print(f"  user PIN:      {info.pin} (documented development PIN)")
    print(f"  trust bundle:  {info.trust_bundle}")
    return int(ExitCode.OK)


def cmd_token_status(args: argparse.Namespace) -> int:
    """``sohoa token status [--json]``: the configured tokens, whether inserted, PIN state."""
    from service.signing.status import token_status

    paths = get_paths()
    rows = token_status(load_config(paths.config).signing, paths)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for row in rows:
            print(" ".join(f"{k}={v}" for k, v in row.items()))
    return int(ExitCode.OK)


def register(sub: Any) -> None:
    """Add ``sign``, ``verify`` and ``token`` to the ``sohoa`` command."""
    p = sub.add_parser("sign", help="sign a stored document with the officer's or the agency's card")
    p.add_argument("code", help="result code (or document id)")
    p.add_argument("--role", choices=[r.value for r in SignatureRole], default=SignatureRole.OFFICER.value)
    p.add_argument("--pin-stdin", action="store_true", help="read the PIN from the first line of stdin")
    p.set_defaults(func=cmd_sign)
    p = sub.add_parser("verify", help="verify a signed PDF's signatures and PDF/A-2b status")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    trust = p.add_mutually_exclusive_group()
    trust.add_argument("--ca-bundle", help="trusted CA certificates (PEM); default signing.ca_bundle")
    trust.add_argument("--no-trust", action="store_true",
                       help="no CA: check PDF/A-2b and each signature's integrity only (not who is trusted)")
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser("token", help="signing tokens")
    tsub = p.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    tsub.add_parser("init-dev", help="create the DEVELOPMENT SoftHSM2 tokens and CA").set_defaults(
        func=cmd_token_init_dev)
    st = tsub.add_parser("status", help="configured tokens and whether they are inserted")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_token_status)
