"""The additional-papers slip (phiếu yêu cầu bổ sung, hoàn thiện hồ sơ) as a printable PDF.

Same layout and QR rule as the receipt (:mod:`service.receipts.render`): QR code top-left with the
TT 01/2023 minimum data, office block and national motto, Liberation Serif embedded; the body lists
the papers asked for and the reason, as the officer entered them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from service.receipts.render import _fonts, _vn_dt, _wrap, draw_header

DOCUMENT_NAME = "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"


@dataclass(frozen=True, slots=True)
class PapersRequest:
    """Everything printed on the slip."""

    dossier_code: str
    procedure_code: str
    procedure_name: str
    owner_id: str
    owner_name: str
    office_name: str
    issuing_system: str
    officer_name: str
    requested_at: dt.datetime
    printed_at: dt.datetime
    reason: str
    papers: tuple[str, ...]


def qr_payload(r: PapersRequest) -> str:
    """The QR code's text: the receipt's keys, without the return date (none is promised yet)."""
    data = {"ma_ho_so": r.dossier_code, "ma_tthc": r.procedure_code, "ma_dinh_danh": r.owner_id,
            "ten_giay_to": DOCUMENT_NAME, "he_thong": r.issuing_system,
            "thoi_gian_xuat_ban": r.printed_at.isoformat(timespec="seconds")}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def render_papers_request(r: PapersRequest) -> bytes:
    """The slip as a one-page A4 PDF (fonts embedded), QR code in the top-left corner."""
    regular, bold, italic = _fonts()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1, initialFontName=regular, initialFontSize=11)
    c.setTitle(f"{DOCUMENT_NAME} {r.dossier_code}")
    c.setAuthor(r.issuing_system)
    w, h = A4
    left, top = 15 * mm, h - 12 * mm
    side = draw_header(c, qr_payload(r), r.office_name, r.printed_at)
    y = top - side - 10 * mm
    c.setFont(bold, 14)
    c.drawCentredString(w / 2, y, DOCUMENT_NAME.upper())
    c.setFont(regular, 12)
    y -= 7 * mm
    c.drawCentredString(w / 2, y, f"Mã hồ sơ: {r.dossier_code}")
    y -= 11 * mm
    body = [
        f"{r.office_name} - Bộ phận tiếp nhận và trả kết quả đề nghị:",
        f"Ông/Bà: {r.owner_name or '—'}",
        f"Số định danh cá nhân / mã số: {r.owner_id or '—'}",
        f"bổ sung, hoàn thiện hồ sơ {r.procedure_name} (mã thủ tục {r.procedure_code}) gồm:",
    ]
    for text in body:
        for ln in _wrap(c, text, regular, 12, w - 2 * left):
            c.drawString(left, y, ln)
            y -= 6.5 * mm
    for i, paper in enumerate(r.papers, 1):
        for j, ln in enumerate(_wrap(c, paper, regular, 12, w - 2 * left - 10 * mm)):
            c.drawString(left + 4 * mm, y, f"{i}." if j == 0 else "")
            c.drawString(left + 10 * mm, y, ln)
            y -= 6.5 * mm
    y -= 2 * mm
    c.setFont(bold, 12)
    c.drawString(left, y, "Lý do:")
    c.setFont(regular, 12)
    for ln in _wrap(c, r.reason, regular, 12, w - 2 * left - 16 * mm):
        c.drawString(left + 16 * mm, y, ln)
        y -= 6.5 * mm
    y -= 2 * mm
    c.drawString(left, y, f"Thời gian yêu cầu: {_vn_dt(r.requested_at)}")
    y -= 6.5 * mm
    c.setFont(italic, 11)
    c.drawString(left, y, "Xin lỗi về sự bất tiện này. Quét mã QR ở góc trên bên trái để tra cứu tình trạng hồ sơ.")
    y -= 16 * mm
    c.setFont(bold, 12)
    c.drawCentredString(left + 35 * mm, y, "NGƯỜI NỘP HỒ SƠ")
    c.drawCentredString(w - left - 40 * mm, y, "NGƯỜI TIẾP NHẬN HỒ SƠ")
    c.setFont(italic, 10)
    c.drawCentredString(left + 35 * mm, y - 5 * mm, "(Ký và ghi rõ họ tên)")
    c.drawCentredString(w - left - 40 * mm, y - 5 * mm, "(Ký và ghi rõ họ tên)")
    c.setFont(bold, 12)
    c.drawCentredString(w - left - 40 * mm, y - 28 * mm, r.officer_name)
    c.setFont(regular, 8)
    c.drawString(left, 10 * mm, f"{r.issuing_system} · in lúc {r.printed_at.isoformat(timespec='seconds')}")
    c.showPage()
    c.save()
    return buf.getvalue()
