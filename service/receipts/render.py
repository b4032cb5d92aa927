"""The receipt (phiếu tiếp nhận và hẹn trả kết quả) as a printable PDF with its QR code top-left.

The QR code (TCVN 7322:2009 / ISO/IEC 18004) carries the minimum data of the TT 01/2023 QR rule
(docs/REGULATION.md §10): dossier code, procedure code, applicant identifier, document name, issuing
system, print time, plus the promised return date for a receipt. The payload encoding is not
fixed by the rule, so it is UTF-8 JSON with the field names below (documented, stable).
Text is set in Liberation Serif (metric-compatible with Times New Roman, full Vietnamese),
embedded in the file; coverage is checked before rendering.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from service.synth.fonts import check_coverage, font_path

DOCUMENT_NAME = "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
QR_KEYS = ("ma_ho_so", "ma_tthc", "ma_dinh_danh", "ten_giay_to", "he_thong", "thoi_gian_xuat_ban", "ngay_hen_tra")


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One component received: its name, pages, and how it was handled."""

    name: str
    pages: int
    reused: bool
    result_code: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """Everything printed on the receipt."""

    dossier_code: str
    procedure_code: str
    procedure_name: str
    owner_id: str
    owner_name: str
    office_name: str
    issuing_system: str
    officer_name: str
    received_at: dt.datetime
    printed_at: dt.datetime
    return_date: dt.date
    lines: tuple[ReceiptLine, ...]


def qr_payload(r: Receipt) -> str:
    """The QR code's text: compact UTF-8 JSON with the keys of :data:`QR_KEYS`."""
    data = {
        "ma_ho_so": r.dossier_code, "ma_tthc": r.procedure_code, "ma_dinh_danh": r.owner_id,
        "ten_giay_to": DOCUMENT_NAME, "he_thong": r.issuing_system,
        "thoi_gian_xuat_ban": r.printed_at.isoformat(timespec="seconds"), "ngay_hen_tra": r.return_date.isoformat(),
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _fonts() -> tuple[str, str, str]:
    names = ("SohoaSerif", "SohoaSerif-Bold", "SohoaSerif-Italic")
    if names[0] not in pdfmetrics.getRegisteredFontNames():
        check_coverage("liberation")
        for name, style in zip(names, ("regular", "bold", "italic"), strict=True):
            pdfmetrics.registerFont(TTFont(name, str(font_path("liberation", style))))  # type: ignore[arg-type]
    return names


def _vn_dt(value: dt.datetime) -> str:
    return f"{value:%H} giờ {value:%M} phút, ngày {value:%d/%m/%Y}"


def _wrap(c: Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    lines, cur = [], ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if c.stringWidth(trial, font, size) <= width or not cur:
            cur = trial
        else:
            lines.append(cur)
            cur = word
    return [*lines, cur] if cur else lines


def draw_paragraphs(c: Canvas, texts: list[str], font: str, y: float, *, x: float = 15 * mm,
                    width: float = A4[0] - 30 * mm, size: float = 12, leading: float = 6.5 * mm) -> float:
    """Draw each text wrapped to ``width`` from ``(x, y)`` downwards; returns the ``y`` below the last line."""
    for text in texts:
        for ln in _wrap(c, text, font, size, width):
            c.drawString(x, y, ln)
            y -= leading
    return y


def draw_header(c: Canvas, payload: str, office_name: str, printed_at: dt.datetime) -> float:
    """The QR code of ``payload`` top-left, the office block beside it and the national motto right
    (NĐ 30/2020 layout); returns the QR side, the height the header takes."""
    regular, bold, italic = _fonts()
    w, h = A4
    left, top = 15 * mm, h - 12 * mm
    # QR top-left (vector modules, quiet zone of 4 modules included in the size).
    qr = segno.make(payload, error="m", micro=False)
    side = 34 * mm
    cols = len(qr.matrix) + 8
    mod = side / cols
    x0, y0 = left - 4 * mod, top - side + 4 * mod
    c.setFillColorRGB(0, 0, 0)
    for ri, row in enumerate(qr.matrix):
        for ci, bit in enumerate(row):
            if bit:
                c.rect(x0 + (ci + 4) * mod, y0 + side - (ri + 5) * mod, mod, mod, stroke=0, fill=1)
    # Header: agency (left, after the QR) and national motto (right).
    ax = left + side + 2 * mm
    mx = w - 47 * mm
    c.setFont(regular, 10)
    c.drawCentredString(ax + 35 * mm, top - 6 * mm, office_name.upper())
    c.setFont(bold, 10)
    c.drawCentredString(ax + 35 * mm, top - 11 * mm, "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ")
    c.setFont(bold, 10.5)
    c.drawCentredString(mx, top - 6 * mm, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    c.drawCentredString(mx, top - 11 * mm, "Độc lập - Tự do - Hạnh phúc")
    c.line(mx - 22 * mm, top - 12.5 * mm, mx + 22 * mm, top - 12.5 * mm)
    c.setFont(italic, 11)
    c.drawCentredString(mx, top - 19 * mm, f"Ngày {printed_at:%d} tháng {printed_at:%m} năm {printed_at:%Y}")
    return side


def render_receipt(r: Receipt) -> bytes:
    """The receipt as a one-page A4 PDF (fonts embedded), QR code in the top-left corner."""
    regular, bold, italic = _fonts()
    c, buf, y = begin_page(DOCUMENT_NAME, qr_payload(r), r.dossier_code, r.office_name, r.issuing_system,
                           r.printed_at)
    w, left = A4[0], 15 * mm
    body = [
        f"{r.office_name} - Bộ phận tiếp nhận và trả kết quả đã tiếp nhận hồ sơ của:",
        f"Ông/Bà: {r.owner_name or '—'}",
        f"Số định danh cá nhân / mã số: {r.owner_id or '— (dùng họ tên và ngày sinh)'}",
        f"Nội dung yêu cầu giải quyết: {r.procedure_name} (mã thủ tục {r.procedure_code})",
        "Thành phần hồ sơ nộp gồm:",
    ]
    y = draw_paragraphs(c, body, regular, y)
    cols_x = (left, left + 10 * mm, left + 100 * mm, left + 118 * mm)
    c.setFont(bold, 10.5)
    for x, head in zip(cols_x, ("STT", "Tên giấy tờ", "Số trang", "Mã kết quả số hóa"), strict=True):
        c.drawString(x, y, head)
    y -= 2 * mm
    c.line(left, y, w - left, y)
    y -= 5 * mm
    c.setFont(regular, 10.5)
    for i, item in enumerate(r.lines, 1):
        name_lines = _wrap(c, item.name + (" (tái sử dụng)" if item.reused else ""), regular, 10.5, 88 * mm)
        c.drawString(cols_x[0], y, str(i))
        c.drawString(cols_x[2], y, str(item.pages) if not item.reused else "—")
        c.drawString(cols_x[3], y, item.result_code)
        for nl in name_lines:
            c.drawString(cols_x[1], y, nl)
            y -= 5.5 * mm
        y -= 1 * mm
    c.line(left, y + 3 * mm, w - left, y + 3 * mm)
    y -= 6 * mm
    c.setFont(regular, 12)
    c.drawString(left, y, f"Thời gian nhận hồ sơ: {_vn_dt(r.received_at)}")
    y -= 6.5 * mm
    c.setFont(bold, 12)
    c.drawString(left, y, f"Thời gian trả kết quả giải quyết hồ sơ: ngày {r.return_date:%d/%m/%Y}")
    y -= 6.5 * mm
    c.setFont(italic, 11)
    c.drawString(left, y, "Quét mã QR ở góc trên bên trái để tra cứu tình trạng hồ sơ.")
    return finish_page(c, buf, y, r.officer_name, r.issuing_system, r.printed_at)


def begin_page(document_name: str, payload: str, dossier_code: str, office_name: str, issuing_system: str,
               printed_at: dt.datetime) -> tuple[Canvas, io.BytesIO, float]:
    """An A4 canvas in Liberation Serif with the header (:func:`draw_header`), the paper's name and
    the dossier code; returns it, its buffer and where the body starts."""
    regular, bold, _ = _fonts()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1, initialFontName=regular, initialFontSize=11)
    c.setTitle(f"{document_name} {dossier_code}")
    c.setAuthor(issuing_system)
    header = draw_header(c, payload, office_name, printed_at)
    w, h = A4
    y = h - 12 * mm - header - 10 * mm
    c.setFont(bold, 14)
    c.drawCentredString(w / 2, y, document_name.upper())
    c.setFont(regular, 12)
    y -= 7 * mm
    c.drawCentredString(w / 2, y, f"Mã hồ sơ: {dossier_code}")
    return c, buf, y - 11 * mm


def finish_page(c: Canvas, buf: io.BytesIO, y: float, officer_name: str, issuing_system: str,
                printed_at: dt.datetime) -> bytes:
    """Both parties' signature blocks below ``y``, the print line, and the finished PDF's bytes."""
    regular, bold, italic = _fonts()
    w, _h = A4
    left = 15 * mm
    y -= 16 * mm
    c.setFont(bold, 12)
    c.drawCentredString(left + 35 * mm, y, "NGƯỜI NỘP HỒ SƠ")
    c.drawCentredString(w - left - 40 * mm, y, "NGƯỜI TIẾP NHẬN HỒ SƠ")
    c.setFont(italic, 10)
    c.drawCentredString(left + 35 * mm, y - 5 * mm, "(Ký và ghi rõ họ tên)")
    c.drawCentredString(w - left - 40 * mm, y - 5 * mm, "(Ký và ghi rõ họ tên)")
    c.setFont(bold, 12)
    c.drawCentredString(w - left - 40 * mm, y - 28 * mm, officer_name)
    c.setFont(regular, 8)
    c.drawString(left, 10 * mm, f"{issuing_system} · in lúc {printed_at.isoformat(timespec='seconds')}")
    c.showPage()
    c.save()
    return buf.getvalue()
