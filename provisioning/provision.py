"""``sohoa provision``: the technician's one command on a new box.

In order: configuration validated (and installed from ``--config``), device identity (key and
CSR made once; the province's certificate installed with ``--cert``/``--ca``), smart-card tokens
checked, the audit checkpoint key (generated on the device token and pinned), device self-test,
the kiosk unit's network allowance for the timestamp server, and a printed summary. It can be
run again at any time; each run repeats every check. The exit code is 0 only when every step is
done: a pending CSR, a missing token or a failing device each give their own exit code
(7 / 12 / 14), a bad configuration 6.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.config import Config, load_config, parse_config
from service.domain.errors import ExitCode, SohoaError
from service.durable import write_durable
from service.paths import Paths

KIOSK_DROPIN = Path("/etc/systemd/system/sohoa-kiosk.service.d/tsa.conf")


@dataclass
class Step:
    """One line of the summary."""

    name: str
    ok: bool
    detail: str
    exit_code: ExitCode = ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"step": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class ProvisionReport:
    """Every step's outcome; :attr:`exit_code` is the first failing step's."""

    steps: list[Step] = field(default_factory=list)
    csr_path: Path | None = None

    @property
    def exit_code(self) -> ExitCode:
        """OK when every step passed."""
        return next((s.exit_code for s in self.steps if not s.ok), ExitCode.OK)

    def table(self) -> str:
        """The printed summary."""
        width = max(len(s.name) for s in self.steps)
        lines = [f"{s.name:<{width}}  {'OK  ' if s.ok else 'TODO'}  {s.detail}" for s in self.steps]
        verdict = "box provisioned" if self.exit_code == ExitCode.OK else "box NOT ready: see TODO lines"
        return "\n".join([*lines, verdict])


def _config_step(paths: Paths, new_config: Path | None) -> tuple[Step, Config | None]:
    try:
        if new_config is not None:
            text = new_config.read_text(encoding="utf-8")
            parse_config(text, str(new_config))
            write_durable(paths.config, text.encode("utf-8"), 0o600)
        cfg = load_config(paths.config)
    except SohoaError as exc:
        return Step("configuration", False, exc.message, exc.exit_code), None
    except (OSError, UnicodeDecodeError) as exc:
        return Step("configuration", False, f"{new_config}: cannot be read ({exc})", ExitCode.CONFIG), None
    where = str(paths.config) if paths.config.exists() else "embedded defaults"
    return Step("configuration", True, f"valid ({where})"), cfg


def _identity_step(paths: Paths, cfg: Config, cert: Path | None, ca: Path | None) -> tuple[Step, Path | None]:
    from provisioning.identity import CSR_NAME, create_identity, install_certificate, show_identity

    ident = cfg.identity
    try:
        info = show_identity(paths)
        if info.state == "none":
            create_identity(paths, ident.device_id, ident.province_code, ident.office_name)
        if cert is not None:
            info = install_certificate(paths, ident.device_id, cert.read_bytes(),
                                       ca.read_bytes() if ca is not None else None)
        info = show_identity(paths)
    except SohoaError as exc:
        return Step("device identity", False, exc.message, exc.exit_code), None
    except OSError as exc:
        return Step("device identity", False, f"cannot read the certificate file ({exc.strerror})",
                    ExitCode.INPUT), None
    if info.state == "enrolled":
        return Step("device identity", True, f"{ident.device_id}: certificate valid until {info.not_after}"), None
    csr = paths.pki / CSR_NAME
    return Step("device identity", False, f"{ident.device_id}: {info.state}; send {csr} to the province CA, then "
                                          "run `sohoa provision --cert DEVICE.crt --ca CA.crt`",
                ExitCode.NOT_FOUND), csr


def _token_step(paths: Paths, cfg: Config) -> Step:
    from service.signing.status import token_status

    rows = token_status(cfg.signing, paths)
    missing = [f"{r['role']}: {r.get('problem', 'absent')}" for r in rows if not r.get("present")]
    locked = [r["role"] for r in rows if r.get("pin_locked")]
    if missing or locked:
        return Step("signing tokens", False, "; ".join(missing + [f"{r}: PIN locked" for r in locked]),
                    ExitCode.TOKEN)
    return Step("signing tokens", True, ", ".join(f"{r['role']} {r.get('token', '')}".strip() for r in rows))


def _checkpoint_step(paths: Paths, cfg: Config) -> Step:
    """The key that signs the audit head: generated on the device token (pkcs11) or the key file, and pinned."""
    from service.usecases.audit_key import ensure_checkpoint_key

    try:
        done = ensure_checkpoint_key(paths, cfg)
    except SohoaError as exc:
        return Step("audit checkpoint key", False, f"{exc.message}; {exc.remedy or ''}".rstrip("; "), exc.exit_code)
    return Step("audit checkpoint key", True, done.label + (" (pinned now)" if done.pinned else ""))


def _selftest_step(paths: Paths, cfg: Config) -> Step:
    from provisioning.selftest import all_ok, default_sample_folder, run_selftest

    rows = run_selftest(cfg.devices, sample_folder=default_sample_folder(cfg.devices, paths.home))
    bad = [f"{r.device}: {r.detail}" for r in rows if not r.ok]
    fitted = [r.device for r in rows if r.state == "ok"]
    if bad:
        return Step("device self-test", False, "; ".join(bad), ExitCode.DEVICE)
    return Step("device self-test", all_ok(rows), "ok: " + (", ".join(fitted) or "no devices fitted"))


def _resolver_addresses() -> list[str]:
    out = []
    try:
        for line in Path("/etc/resolv.conf").read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                out.append(parts[1])
    except OSError:
        pass
    return out


def tsa_dropin(tsa_url: str | None) -> tuple[str | None, str]:
    """The kiosk unit's drop-in text allowing the TSA's addresses (None when no TSA is set)."""
    if not tsa_url:
        return None, "no TSA configured (signatures are PAdES B-B, timestamped later by the province)"
    host = urllib.parse.urlsplit(tsa_url).hostname
    if not host:
        raise ValueError(f"signing.tsa_url {tsa_url!r} has no host")
    try:
        addrs = sorted({str(ipaddress.ip_address(host))})
    except ValueError:
        addrs = sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
    allowed = sorted(set(addrs) | set(_resolver_addresses()))
    text = ("# Written by `sohoa provision`: the kiosk may reach the timestamp server\n"
            f"# {tsa_url} (and the DNS resolvers that name it). Run `sohoa provision` again if it moves.\n"
            "[Service]\n" + "".join(f"IPAddressAllow={a}\n" for a in allowed))
    return text, f"kiosk may reach {host} ({', '.join(addrs)})"


def _tsa_step(cfg: Config, dropin: Path) -> Step:
    try:
        text, detail = tsa_dropin(cfg.signing.tsa_url)
    except (ValueError, OSError) as exc:
        return Step("timestamp server", False, f"cannot resolve the TSA ({exc})", ExitCode.CONFIG)
    if text is None:
        return Step("timestamp server", True, detail)
    try:
        write_durable(dropin, text.encode("utf-8"), 0o644)
    except OSError as exc:
        return Step("timestamp server", False, f"cannot write {dropin} ({exc.strerror})", ExitCode.CONFIG)
    return Step("timestamp server", True, f"{detail}; {dropin} (run `systemctl daemon-reload`)")


def _hand_over(paths: Paths) -> None:
    """As root, give what provisioning wrote in the home to the home's owner (the service user)."""
    if os.geteuid() != 0:
        return
    st = paths.home.stat()
    if st.st_uid == 0:
        return
    for top, dirs, files in os.walk(paths.home):
        for name in (*dirs, *files):
            os.lchown(os.path.join(top, name), st.st_uid, st.st_gid)


def provision(paths: Paths, *, config: Path | None = None, cert: Path | None = None, ca: Path | None = None,
              dropin: Path = KIOSK_DROPIN, selftest: bool = True) -> ProvisionReport:
    """Run every provisioning step and return the report (never raises for a failing step)."""
    paths.ensure()
    report = ProvisionReport()
    step, cfg = _config_step(paths, config)
    report.steps.append(step)
    if cfg is None:
        return report
    step, report.csr_path = _identity_step(paths, cfg, cert, ca)
    report.steps.append(step)
    report.steps.append(_token_step(paths, cfg))
    report.steps.append(_checkpoint_step(paths, cfg))
    if selftest:
        report.steps.append(_selftest_step(paths, cfg))
    report.steps.append(_tsa_step(cfg, dropin))
    _hand_over(paths)
    return report
