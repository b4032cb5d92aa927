"""PDF/A-2b checks that matter after an incremental signature (veraPDF is not available here).

Three layers: pikepdf's allowlist PDF/A validator (``pikepdf.pdfa.validate_written``; findings
about the spine's declared XMP extension schema are accepted, as the spine's builder does; its
blanket "forms are not supported" note is accepted when the form holds only signature fields);
explicit checks of the rules a signature can break — header/catalog version (no PDF 2.0), no
encryption, every font used by pages and annotation appearances embedded, annotations printable
with an appearance stream, no ``NeedAppearances``, an output intent present; and qpdf's syntax check
(``Pdf.check_pdf_syntax``, as ``qpdf --check``) for the structure of the incremental revisions.
"""

from __future__ import annotations

import io
from typing import Any

import pikepdf
import pikepdf.pdfa

from service.pdf.xmp import is_declared_extension_finding

_FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")


def pdfa_part(pdf: bytes) -> str | None:
    """The PDF/A claim in the XMP (``"2b"``, ``"1b"``, ...) or None (also for unreadable input)."""
    try:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            status = doc.open_metadata().pdfa_status
    except (pikepdf.PdfError, ValueError):
        return None
    return status.lower() or None


def _font_embedded(font: Any) -> bool:
    if font.get("/Subtype") == "/Type0":
        desc = font.get("/DescendantFonts")
        if not desc:
            return False
        font = desc[0]
    if font.get("/Subtype") == "/Type3":
        return True
    fd = font.get("/FontDescriptor")
    return fd is not None and any(k in fd for k in _FONT_FILES)


def _check_resources(res: Any, where: str, problems: list[str], seen: set[tuple[int, int]]) -> None:
    if res is None:
        return
    for name, font in (res.get("/Font") or {}).items():
        if not _font_embedded(font):
            problems.append(f"{where}: font {name} ({font.get('/BaseFont')}) is not embedded")
    for _name, xobj in (res.get("/XObject") or {}).items():
        og = xobj.objgen
        if og in seen or xobj.get("/Subtype") != "/Form":
            continue
        seen.add(og)
        _check_resources(xobj.get("/Resources"), where, problems, seen)


def check_pdfa2b(pdf: bytes) -> list[str]:
    """Problems that make ``pdf`` fail PDF/A-2b (empty list: passes these checks)."""
    problems: list[str] = []
    head = pdf[:16]
    if not head.startswith(b"%PDF-1.") or head[7:8] not in b"4567":
        problems.append(f"header {head[:8]!r} is not PDF 1.4-1.7")
    try:
        doc = pikepdf.open(io.BytesIO(pdf))
    except pikepdf.PdfError as exc:
        return [*problems, f"not a readable PDF ({exc})"]
    with doc:
        if doc.open_metadata().pdfa_status.upper() != "2B":
            problems.append(f"XMP claims PDF/A {doc.open_metadata().pdfa_status or 'nothing'}, not 2B")
        version = doc.Root.get("/Version")
        if version is not None and str(version).lstrip("/") not in ("1.4", "1.5", "1.6", "1.7"):
            problems.append(f"catalog /Version {version} is not allowed in PDF/A-2")
        if doc.is_encrypted:
            problems.append("the file is encrypted")
        if not doc.Root.get("/OutputIntents"):
            problems.append("no output intent")
        form = doc.Root.get("/AcroForm")
        if form is not None and bool(form.get("/NeedAppearances", False)):
            problems.append("AcroForm /NeedAppearances is true")
        # qpdf's own syntax check (as ``qpdf --check``, in-process): xref of every revision, streams
        problems.extend(f"qpdf: {p}" for p in doc.check_pdf_syntax()[:3])
        seen: set[tuple[int, int]] = set()
        for n, page in enumerate(doc.pages, start=1):
            _check_resources(page.obj.get("/Resources"), f"page {n}", problems, seen)
            for annot in page.obj.get("/Annots") or []:
                sub = annot.get("/Subtype")
                if sub == "/Popup":
                    continue
                flags = int(annot.get("/F", 0))
                if not flags & 4 or flags & (1 | 2 | 32):
                    problems.append(f"page {n}: annotation {sub} is not printable / is hidden (F={flags})")
                rect = [float(v) for v in annot.get("/Rect", [0, 0, 0, 0])]
                ap = annot.get("/AP")
                if rect[2] - rect[0] > 0 and rect[3] - rect[1] > 0:
                    if ap is None or "/N" not in ap:
                        problems.append(f"page {n}: annotation {sub} has no appearance stream")
                    elif isinstance(ap.N, pikepdf.Stream):
                        _check_resources(ap.N.get("/Resources"), f"page {n} annotation", problems, seen)
        sig_only_form = form is not None and "/XFA" not in form and all(
            f.get("/FT") == "/Sig" for f in form.get("/Fields") or [])
    report = pikepdf.pdfa.validate_written(io.BytesIO(pdf), "2b")
    for finding in report.findings:
        if is_declared_extension_finding(finding.rule, finding.message):
            continue
        if sig_only_form and _is_acroform_unsupported(finding):
            continue  # the validator does not model forms; signature fields are checked above
        problems.append(str(finding))
    return problems


def _is_acroform_unsupported(finding: pikepdf.pdfa.Finding) -> bool:
    """The allowlist validator's blanket 'forms are not supported' note (not a violation)."""
    return (finding.kind == "unsupported" and finding.rule == "pikepdf:schema-Catalog"
            and finding.where.endswith("/AcroForm"))
