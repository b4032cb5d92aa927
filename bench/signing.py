"""Signing benchmark: time per document to sign (officer, agency) and to verify, B-B and B-T.

Real components only: keys generated inside SoftHSM2 tokens (RSA-2048 and EC P-256), a generated
CA, a local RFC 3161 TSA (``openssl ts -reply`` behind HTTP on 127.0.0.1), a 2-page A4 PDF/A-2b.
Signing times include the PDF/A-2b checks before and after each signature (reported apart too).
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization


def _ms(samples: list[float]) -> str:
    med = statistics.median(samples) * 1000
    worst = max(samples) * 1000
    return f"{med:7.1f} / {worst:7.1f}"


def _measure(pdf: bytes, signers: dict, url: str | None, trust: list, n: int):
    """Officer-sign, agency-sign and verify ``n`` times; returns the three timings and validity."""
    from service.signing.pades import VN_TZ, sign_pdf_ex
    from service.signing.signer import SignatureRole
    from service.signing.verify import verify_pdf

    when = dt.datetime.now(VN_TZ)
    officer_t, agency_t, verify_t, cpu_t = [], [], [], []
    ok = True
    for _ in range(n):
        c0 = time.process_time()
        t0 = time.perf_counter()
        one = sign_pdf_ex(pdf, signers[SignatureRole.OFFICER], SignatureRole.OFFICER, signer_name="BENCH officer",
                          when=when, tsa_url=url)
        t1 = time.perf_counter()
        cpu_t.append(time.process_time() - c0)
        two = sign_pdf_ex(one.pdf, signers[SignatureRole.AGENCY], SignatureRole.AGENCY, signer_name="BENCH agency",
                          when=when, tsa_url=url)
        t2 = time.perf_counter()
        report = verify_pdf(two.pdf, trust)
        t3 = time.perf_counter()
        officer_t.append(t1 - t0)
        agency_t.append(t2 - t1)
        verify_t.append(t3 - t2)
        ok = ok and report.pdfa == "2b" and all(s.valid and s.trusted and s.timestamped == (url is not None)
                                                for s in report.signatures)
    return officer_t, agency_t, verify_t, cpu_t, ok


def run(quick: bool) -> str:
    """Sign and verify ``n`` documents per configuration; returns the table."""
    from firmware.token import softhsm_module
    from provisioning.devtoken import provision_token, write_softhsm_conf
    from service.paths import get_paths
    from service.signing import pool
    from service.signing.config import TokenProfile
    from service.signing.pdfa_check import check_pdfa2b
    from service.signing.pkcs11_signer import Pkcs11Signer
    from service.signing.signer import SignatureRole
    from tests.support.pdfa_sample import make_pdfa2b
    from tests.support.pki import build_pki
    from tests.support.tsa import LocalTsa

    n = 3 if quick else 15
    module = softhsm_module()
    if module is None:
        return "signing: skipped (softhsm2 not installed)"
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-signing-") as tmp:
        root = Path(tmp)
        pki = build_pki(root / "pki")
        ca = pki.ca
        conf = write_softhsm_conf(root / "tokens")
        paths = get_paths(root / "home").ensure()
        trust = [asn1_x509.Certificate.load(ca.cert.public_bytes(serialization.Encoding.DER))]
        pdf = make_pdfa2b(2, dpi=200)
        tsa = LocalTsa(pki.tsa_cert, pki.tsa_key).start()
        try:
            t0 = time.perf_counter()
            check_pdfa2b(pdf)
            pdfa_check_s = time.perf_counter() - t0
            for kind in ("rsa", "ec"):
                signers = {}
                for role in SignatureRole:  # all tokens first: SoftHSM2 sees new tokens only on a rescan
                    provision_token(module, conf, ca, f"BENCH-{role.value}-{kind}", f"BENCH {role.value}", kind=kind)
                for role in SignatureRole:
                    label = f"BENCH-{role.value}-{kind}"
                    signer = Pkcs11Signer(TokenProfile(module=module, softhsm2_conf=conf, token_label=label), paths,
                                          role=role.value)
                    t0 = time.perf_counter()
                    signer.login(lambda: "123456")
                    login_s = time.perf_counter() - t0
                    signers[role] = signer
                for mode, url in (("B-B", None), ("B-T", tsa.url)):
                    officer_t, agency_t, verify_t, cpu_t, ok = _measure(pdf, signers, url, trust, n)
                    cpu = statistics.median(cpu_t) * 1000
                    rows.append(f"| {kind:3} | {mode} | {_ms(officer_t)} | {cpu:6.1f} | {_ms(agency_t)} | "
                                f"{_ms(verify_t)} | {login_s * 1000:6.1f} | {'yes' if ok else 'NO'} |")
                for signer in signers.values():
                    signer.close()
        finally:
            tsa.stop()
            pool.close_all()
    header = [
        f"signing: {n} documents per row, 2-page A4 PDF/A-2b at 200 dpi ({len(pdf) // 1024} KiB), SoftHSM2 tokens",
        "times in ms, median / max; sign includes the PDF/A-2b check before and after "
        f"(one check alone: {pdfa_check_s * 1000:.0f} ms); verify = both signatures + PDF/A check; "
        "officer CPU = this process's CPU time (SoftHSM runs in-process; the TSA is a separate process), "
        "a figure that does not grow when other programs load the machine",
        "| key | mode | sign officer | officer CPU | sign agency (2nd) | verify (2 sigs) | login | valid+trusted+2b |",
        "|-----|------|--------------|-------------|-------------------|-----------------|-------|------------------|",
    ]
    return "\n".join(header + rows)


if __name__ == "__main__":
    print(run(quick=False))
