"""PAdES signatures on the digitized PDF/A: officer (top-left) and agency (top-right) of page 1.

* Officer (TT 01/2023 Art. 8, docs/REGULATION.md §8.1): visible approval signature, top-left of page 1, showing the
  officer's full name and the capture/signing time.
* Agency (NĐ 30/2020 Phụ lục I, docs/REGULATION.md §8.2): top-right of page 1, text only — form of copy, agency
  name, signing time in ISO 8601 with +07:00 — 10 pt black, embedded Times-compatible font.

Both are approval signatures (officer first, then agency): a certification after an approval is
forbidden by ISO 32000. The file keeps PDF/A-2b: the stamp font is embedded (subset), the
signature does not push the file to PDF 2.0 (pyHanko does that for EC keys unless prevented, see
:class:`_PdfA2Signer`), and the result is checked before it is returned; a failing file is refused.
PAdES B-B offline, B-T when a configured RFC 3161 TSA answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pikepdf
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError as PyHankoPdfError
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.pdf_signer import _ensure_esic_ext
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko.stamp import TextStampStyle

from service.domain.errors import InputError, SigningError, SohoaError
from service.signing.config import DEFAULT_STAMP_FONT
from service.signing.errors import PdfaBroken
from service.signing.pdfa_check import check_pdfa2b
from service.signing.signer import SignatureRole, Signer
from service.signing.stamp_font import PdfUnitsGlyphAccumulatorFactory

log = logging.getLogger(__name__)

VN_TZ = dt.timezone(dt.timedelta(hours=7), "+07:00")
FONT_SIZE = 10
EDGE = 14  # pt from the page edges
PAD = 3  # pt inside the box (integral: pyHanko layout uses Fractions)
MAX_BOX_WIDTH = 270.0


@dataclass(frozen=True, slots=True)
class SignedPdf:
    """The signed bytes and what the store records about the signature."""

    pdf: bytes
    role: SignatureRole
    field_name: str
    signer_name: str
    signing_time: dt.datetime
    timestamped: bool
    sha256: str
    box: tuple[int, int, int, int]


def vn_iso(when: dt.datetime) -> str:
    """ISO 8601 in Vietnam time, seconds precision: ``2023-04-05T14:30:15+07:00``."""
    if when.tzinfo is None:
        raise SigningError("signing time must be timezone-aware")
    return when.astimezone(VN_TZ).replace(microsecond=0).isoformat()


@lru_cache(maxsize=4)
def _advance_table(font: str) -> tuple[dict[int, str], dict[str, int], int]:
    tt = TTFont(font, lazy=True)
    return dict(tt.getBestCmap()), {k: v[0] for k, v in tt["hmtx"].metrics.items()}, int(tt["head"].unitsPerEm)


def text_width(text: str, font: Path, size: float = FONT_SIZE) -> float:
    """Width of ``text`` in points (no kerning) — used to size the box and to refuse missing glyphs."""
    cmap, adv, upm = _advance_table(str(font))
    total = 0
    for ch in text:
        glyph = cmap.get(ord(ch))
        if glyph is None:
            raise SigningError(f"the stamp font {font.name} has no glyph for {ch!r}",
                               remedy="configure signing.stamp_font with a font covering Vietnamese "
                               "(e.g. Liberation Serif from fonts-liberation2)")
        total += adv[glyph]
    return total * size / upm


def _wrap(line: str, font: Path, width: float) -> list[str]:
    words, out, cur = line.split(" "), [], ""
    for word in words:
        cand = f"{cur} {word}" if cur else word
        if cur and text_width(cand, font) > width:
            out.append(cur)
            cur = word
        else:
            cur = cand
    out.append(cur)
    return out


def stamp_lines(role: SignatureRole, *, signer_name: str, when: dt.datetime, copy_form: str,
                agency_name: str | None) -> list[str]:
    """The visible text of the stamp, line by line."""
    stamp_time = vn_iso(when)
    if role is SignatureRole.OFFICER:
        return [f"Người số hóa: {signer_name}", f"Thời gian: {stamp_time}"]
    return [copy_form, agency_name or signer_name, stamp_time]


def stamp_box(page_box: tuple[float, float, float, float], role: SignatureRole, lines: list[str],
              font: Path) -> tuple[tuple[int, int, int, int], list[str]]:
    """The widget rectangle on page 1 (top-left for the officer, top-right for the agency)."""
    x0, y0, x1, y1 = page_box
    max_w = min(MAX_BOX_WIDTH, (x1 - x0) / 2 - 2 * EDGE)
    wrapped = [piece for line in lines for piece in _wrap(line, font, max_w - 2 * PAD)]
    width = min(max_w, max(text_width(w, font) for w in wrapped) + 2 * PAD + 2)
    height = len(wrapped) * FONT_SIZE * 1.2 + 2 * PAD
    top = y1 - EDGE
    left = x0 + EDGE if role is SignatureRole.OFFICER else x1 - EDGE - width
    # pyHanko's layout engine wants integral box sizes.
    return (math.floor(left), math.floor(top - height), math.ceil(left + width), math.floor(top)), wrapped


class _PdfA2Signer(signers.PdfSigner):
    """PdfSigner that keeps PDF/A-2 (ISO 32000-1) output and shows our signing time.

    pyHanko registers the ISO 32002 extension — and bumps the file to PDF 2.0 — for ECDSA on
    P-256/384/521. PDF/A-2 is based on PDF 1.7, so only the ESIC (PAdES) extension is registered.
    """

    def __init__(self, *args: Any, system_time: dt.datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._system_time = system_time

    def register_extensions(self, pdf_out: Any, *, md_algorithm: str) -> None:
        """Only the PAdES ESIC extension (keeps the output at PDF 1.7)."""
        _ensure_esic_ext(pdf_out)

    def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
        """As pyHanko's, with the caller's signing time (shown in the stamp and /M)."""
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._system_time
        return session


class _MetadataPreservingWriter(IncrementalPdfFileWriter):
    """Incremental writer that leaves the document's XMP and Info untouched.

    pyHanko re-serialises the XMP packet on every write (to bump ModifyDate), renaming unknown
    namespace prefixes to ``ns0``: the spine's declared PDF/A extension schema (prefix ``sohoa``)
    would then no longer match the properties, a PDF/A-2 violation (ISO 19005-2 §6.6.2.3). The
    signature revision therefore does not touch the metadata, which stays consistent as built.
    """

    def _update_meta(self) -> None:
        return None


def _page_one(pdf: bytes) -> tuple[tuple[float, float, float, float], int]:
    try:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            if not doc.pages:
                raise InputError("the PDF has no pages")
            box = [float(v) for v in doc.pages[0].mediabox]
            form = doc.Root.get("/AcroForm")
            existing = form.get("/Fields") if form is not None else None
            n_sigs = len([f for f in (existing or []) if f.get("/FT") == "/Sig"])
            return (box[0], box[1], box[2], box[3]), n_sigs
    except pikepdf.PdfError as exc:
        raise InputError(f"not a readable PDF ({exc})", remedy="re-create the PDF from the captured pages") from exc


def _timestamper(tsa_url: str | None, timeout: float) -> HTTPTimeStamper | None:
    return HTTPTimeStamper(tsa_url, timeout=int(max(1, timeout))) if tsa_url else None


def sign_pdf_ex(pdf: bytes, signer: Signer, role: SignatureRole, *, signer_name: str,
                when: dt.datetime | None = None, copy_form: str = "SAO Y", agency_name: str | None = None,
                font: Path = DEFAULT_STAMP_FONT, tsa_url: str | None = None, tsa_timeout_s: float = 5.0,
                require_pdfa: bool = True) -> SignedPdf:
    """Sign ``pdf`` for ``role``; the input bytes are never modified. See :func:`sign_pdf`."""
    when = (when or dt.datetime.now(VN_TZ)).astimezone(VN_TZ).replace(microsecond=0)
    page_box, n_sigs = _page_one(pdf)
    if require_pdfa:
        before = check_pdfa2b(pdf)
        if before:
            raise PdfaBroken(f"the document is not PDF/A-2b before signing: {before[0]}",
                             remedy="rebuild the PDF with the spine's PDF/A builder")
    lines = stamp_lines(role, signer_name=signer_name, when=when, copy_form=copy_form, agency_name=agency_name)
    box, wrapped = stamp_box(page_box, role, lines, font)
    field_name = f"Sig{n_sigs + 1}_{role.value}"
    style = TextStampStyle(
        stamp_text="\n".join(f"%(l{i})s" for i in range(len(wrapped))),
        text_box_style=TextBoxStyle(
            font=PdfUnitsGlyphAccumulatorFactory(str(font), font_size=FONT_SIZE, create_objstream_if_needed=False),
            font_size=FONT_SIZE, leading=int(FONT_SIZE * 1.2), text_color=(0.0, 0.0, 0.0),
            box_layout_rule=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MAX,
                margins=layout.Margins(PAD, PAD, PAD, PAD), inner_content_scaling=layout.InnerScaling.NO_SCALING),
        ),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MAX,
            inner_content_scaling=layout.InnerScaling.NO_SCALING),
        border_width=0, background=None,
    )
    params = {f"l{i}": text for i, text in enumerate(wrapped)}
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES,
        name=signer_name, reason="Bản sao điện tử" if role is SignatureRole.AGENCY else "Số hóa (sao chụp)",
        certify=False, embed_validation_info=False, use_pades_lta=False,
    )
    spec = fields.SigFieldSpec(sig_field_name=field_name, on_page=0, box=box)
    timestamper = _timestamper(tsa_url, tsa_timeout_s)
    try:
        out = _run_sign(pdf, signer, meta, spec, style, params, when, timestamper)
        timestamped = timestamper is not None
    except TimestampRequestError as exc:
        log.warning("TSA did not answer (%s): signing offline, PAdES B-B", type(exc).__name__)
        out = _run_sign(pdf, signer, meta, spec, style, params, when, None)
        timestamped = False
    if require_pdfa:
        problems = check_pdfa2b(out)
        if problems:
            raise PdfaBroken("signing would break PDF/A-2b: " + "; ".join(problems[:3]),
                             remedy="check signing.stamp_font (must be a TrueType font) and report the issue")
    return SignedPdf(out, role, field_name, signer_name, when, timestamped, hashlib.sha256(out).hexdigest(), box)


def _run_sign(pdf: bytes, signer: Signer, meta: signers.PdfSignatureMetadata, spec: fields.SigFieldSpec,
              style: TextStampStyle, params: dict[str, str], when: dt.datetime,
              timestamper: HTTPTimeStamper | None) -> bytes:
    try:
        writer = _MetadataPreservingWriter(io.BytesIO(pdf), strict=False)
    except (PyHankoPdfError, ValueError, KeyError) as exc:
        raise InputError(f"the PDF cannot be opened for signing ({exc})") from exc
    try:
        # building the signer already reads the key handle from the token (card may be gone)
        pdf_signer = _PdfA2Signer(meta, signer.pyhanko_signer(), timestamper=timestamper, stamp_style=style,
                                  new_field_spec=spec, system_time=when)
        result = asyncio.run(pdf_signer.async_sign_pdf(writer, appearance_text_params=params))
    except TimestampRequestError:
        raise
    except SohoaError:
        raise
    except Exception as exc:  # pyHanko / python-pkcs11 raise many types; classify via the signer
        if _caused_by_tsa(exc):
            raise TimestampRequestError(str(exc)) from exc
        raise signer.explain_failure(exc) from exc
    return bytes(result.getvalue())


def _caused_by_tsa(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimestampRequestError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def sign_pdf(pdf: bytes, signer: Signer, role: SignatureRole, *, signer_name: str,
             when: dt.datetime | None = None, copy_form: str = "SAO Y", agency_name: str | None = None,
             font: Path = DEFAULT_STAMP_FONT, tsa_url: str | None = None, tsa_timeout_s: float = 5.0,
             require_pdfa: bool = True) -> bytes:
    """Return ``pdf`` with a visible PAdES approval signature for ``role`` on page 1.

    ``signer`` must be logged in. B-T when ``tsa_url`` answers, else B-B. Raises InputError (not a
    PDF), PdfaBroken (the result would not be PDF/A-2b), TokenRemoved / SigningError (device).
    """
    return sign_pdf_ex(pdf, signer, role, signer_name=signer_name, when=when, copy_form=copy_form,
                       agency_name=agency_name, font=font, tsa_url=tsa_url, tsa_timeout_s=tsa_timeout_s,
                       require_pdfa=require_pdfa).pdf
