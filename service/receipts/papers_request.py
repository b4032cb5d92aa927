"""The additional-papers slip (phiếu yêu cầu bổ sung, hoàn thiện hồ sơ) as a printable PDF.

Same layout and QR rule as the receipt (:mod:`service.receipts.render`): QR code top-left with the
TT 01/2023 minimum data, office block and national motto, Liberation Serif embedded; the body lists
the papers asked for and the reason, as the officer entered them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from service.receipts.render import _fonts, _vn_dt, _wrap, begin_page, draw_paragraphs, finish_page

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
    c, buf, y = begin_page(DOCUMENT_NAME, qr_payload(r), r.dossier_code, r.office_name, r.issuing_system,
                           r.printed_at)
    w, left = A4[0], 15 * mm
    body = [
        f"{r.office_name} - Bộ phận tiếp nhận và trả kết quả đề nghị:",
        f"Ông/Bà: {r.owner_name or '—'}",
        f"Số định danh cá nhân / mã số: {r.owner_id or '—'}",
        f"bổ sung, hoàn thiện hồ sơ {r.procedure_name} (mã thủ tục {r.procedure_code}) gồm:",
    ]
    y = draw_paragraphs(c, body, regular, y)
    for i, paper in enumerate(r.papers, 1):
        for j, ln in enumerate(_wrap(c, paper, regular, 12, w - 2 * left - 10 * mm)):
            c.drawString(left + 4 * mm, y, f"{i}." if j == 0 else "")
            c.drawString(left + 10 * mm, y, ln)
            y -= 6.5 * mm
    y -= 2 * mm
    c.setFont(bold, 12)
    c.drawString(left, y, "Lý do:")
    c.setFont(regular, 12)
    y = draw_paragraphs(c, [r.reason], regular, y, x=left + 16 * mm, width=w - 2 * left - 16 * mm)
    y -= 2 * mm
    c.drawString(left, y, f"Thời gian yêu cầu: {_vn_dt(r.requested_at)}")
    y -= 6.5 * mm
    c.setFont(italic, 11)
    c.drawString(left, y, "Xin lỗi về sự bất tiện này. Quét mã QR ở góc trên bên trái để tra cứu tình trạng hồ sơ.")
    return finish_page(c, buf, y, r.officer_name, r.issuing_system, r.printed_at)
