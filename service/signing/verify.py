"""Verify the signatures of a PDF offline, against a configured CA bundle, and report PDF/A status.

``verify_pdf(pdf, trust_roots)`` gives the report printed by ``sohoa verify FILE.pdf --json``::

    {"pdfa": "2b" | null,
     "signatures": [{"signer", "signing_time", "intact", "valid", "trusted", "page", "box", "timestamped"}]}

``page`` is numbered from 1, ``box`` is the widget rectangle in PDF user-space points, times are
ISO 8601 in Vietnam time (+07:00). No network access: revocation is checked only from data
embedded in the file (soft-fail), as the box is offline.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from asn1crypto import pem, x509
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext

from service.domain.errors import ConfigError, InputError
from service.signing.pades import VN_TZ
from service.signing.pdfa_check import check_pdfa2b

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """One signature as ``verify --json`` prints it."""

    signer: str
    signing_time: str | None
    intact: bool
    valid: bool
    trusted: bool
    page: int | None
    box: list[float] | None
    timestamped: bool


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The whole file: PDF/A status and each signature, in signing order."""

    pdfa: str | None
    signatures: list[SignatureReport]

    def to_json(self) -> dict[str, Any]:
        """Exactly the documented JSON shape."""
        return {"pdfa": self.pdfa, "signatures": [asdict(s) for s in self.signatures]}


def load_trust_roots(bundle: Path) -> list[x509.Certificate]:
    """Certificates of a PEM (or single DER) CA bundle; a missing or empty bundle is a ConfigError."""
    try:
        data = bundle.read_bytes()
    except OSError as exc:
        raise ConfigError(f"CA bundle {bundle} cannot be read ({exc.strerror})",
                          remedy="set signing.ca_bundle, or run `sohoa token init-dev` for the development CA") from exc
    try:
        if pem.detect(data):
            certs = [x509.Certificate.load(der) for _t, _h, der in pem.unarmor(data, multiple=True)]
        else:
            certs = [x509.Certificate.load(data)]
            certs[0].native  # noqa: B018 - forces a full parse
    except ValueError as exc:
        raise ConfigError(f"CA bundle {bundle} is not a PEM/DER certificate file",
                          remedy="point signing.ca_bundle at the province's CA certificates (PEM)") from exc
    if not certs:
        raise ConfigError(f"CA bundle {bundle} holds no certificate", remedy="add the trusted CA certificates")
    return certs


def _iso(when: dt.datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(VN_TZ).replace(microsecond=0).isoformat()


def _common_name(cert: x509.Certificate) -> str:
    subject = cert.subject.native
    return str(subject.get("common_name") or cert.subject.human_friendly)


def _widget_location(reader: PdfFileReader, sig: EmbeddedPdfSignature) -> tuple[int | None, list[float] | None]:
    field = sig.sig_field
    widgets = [field] if "/Rect" in field else [k.get_object() for k in field.get("/Kids", [])]
    if not widgets:
        return None, None
    widget = widgets[0]
    box = [round(float(v), 2) for v in widget["/Rect"]]
    box = [min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])]
    page_no = None
    for n in range(reader.root["/Pages"]["/Count"]):
        page = reader.find_page_for_modification(n)[0].get_object()
        annots = page.get("/Annots")
        if annots is not None and any(a.get_object() is widget or a.get_object() == widget
                                      for a in annots.get_object()):
            page_no = n + 1
            break
    return page_no, box


def verify_pdf(pdf: bytes, trust_roots: list[x509.Certificate]) -> VerifyReport:
    """Check every signature in ``pdf``; raises InputError for non-PDF / unreadable input."""
    if not pdf.lstrip()[:5].startswith(b"%PDF-"):
        raise InputError("not a PDF file (no %PDF- header)", remedy="give the signed PDF produced by the station")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        sigs = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise InputError(f"the PDF is corrupt or truncated ({exc})",
                         remedy="fetch the file again from the store or the province") from exc
    reports = []
    for sig in sigs:
        vc = ValidationContext(trust_roots=trust_roots, allow_fetching=False, revocation_mode="soft-fail")
        tvc = ValidationContext(trust_roots=trust_roots, allow_fetching=False, revocation_mode="soft-fail")
        try:
            status = validate_pdf_signature(sig, signer_validation_context=vc, ts_validation_context=tvc)
        except (PdfReadError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"signature {sig.field_name!r} cannot be read ({exc})",
                             remedy="the file is damaged; fetch it again") from exc
        try:
            page, box = _widget_location(reader, sig)
        except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise InputError(f"the PDF is corrupt (signature {sig.field_name!r} has a damaged page tree: "
                             f"{type(exc).__name__})", remedy="fetch the file again from the store or the province") \
                from exc
        ts = status.timestamp_validity
        ts_ok = ts is None or (ts.intact and ts.valid)
        modification_ok = status.docmdp_ok is not False and status.coverage is not None
        claimed = status.signer_reported_dt or sig.self_reported_timestamp
        reports.append(SignatureReport(
            signer=_common_name(status.signing_cert),
            signing_time=_iso(claimed),
            intact=bool(status.intact),
            valid=bool(status.intact and status.valid and ts_ok and modification_ok),
            trusted=bool(status.trusted and (ts is None or ts.trusted)),
            page=page, box=box, timestamped=ts is not None,
        ))
    return VerifyReport(pdfa="2b" if not check_pdfa2b(pdf) else None, signatures=reports)
