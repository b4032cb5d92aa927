"""The receipt and the citizen's ticket as a thermal slip (80 or 58 mm roll): lines of text and a QR.

The slip says what the A4 receipt (:mod:`service.receipts.render`) says, shortened for a roll,
and carries the same QR payload (:func:`~service.receipts.render.qr_payload`, TT 01/2023 fields),
so a slip and the PDF of the same print read back identically. The printer driver renders the
lines with a Unicode font as a raster image: Vietnamese needs no printer code page.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from service.receipts.render import DOCUMENT_NAME, Receipt, qr_payload

TICKET_NAME = "Phiếu nộp hồ sơ tự phục vụ"


@dataclass(frozen=True, slots=True)
class Slip:
    """What goes on the roll: the QR payload (printed on top) and the text lines under it."""

    qr: str
    lines: tuple[str, ...]


def receipt_slip(r: Receipt) -> Slip:
    """The receipt (giấy tiếp nhận và hẹn trả kết quả) for the roll printer."""
    lines = [
        r.office_name.upper(),
        "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ",
        "",
        DOCUMENT_NAME.upper(),
        f"Mã hồ sơ: {r.dossier_code}",
        f"Ông/Bà: {r.owner_name or '—'}",
        f"Thủ tục: {r.procedure_name} ({r.procedure_code})",
        "Thành phần hồ sơ:",
    ]
    for i, item in enumerate(r.lines, 1):
        pages = "tái sử dụng" if item.reused else f"{item.pages} trang"
        lines.append(f"{i}. {item.name} ({pages})")
    lines += [
        f"Nhận lúc: {r.received_at:%H:%M %d/%m/%Y}",
        f"Hẹn trả kết quả: ngày {r.return_date:%d/%m/%Y}",
        f"Người tiếp nhận: {r.officer_name}",
        "Quét mã QR để tra cứu tình trạng hồ sơ.",
        f"{r.issuing_system} · in lúc {r.printed_at:%H:%M %d/%m/%Y}",
    ]
    return Slip(qr_payload(r), tuple(lines))


def ticket_payload(ticket: str, issuing_system: str, printed_at: dt.datetime) -> str:
    """The ticket's QR text: compact UTF-8 JSON (``so_phieu``, ``ten_giay_to``, ``he_thong``, print time)."""
    data = {"so_phieu": ticket, "ten_giay_to": TICKET_NAME, "he_thong": issuing_system,
            "thoi_gian_xuat_ban": printed_at.isoformat(timespec="seconds")}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def ticket_slip(ticket: str, *, office_name: str, issuing_system: str, printed_at: dt.datetime) -> Slip:
    """The citizen's ticket after handing in self-scanned papers: the number the desk calls."""
    lines = (
        office_name.upper(),
        TICKET_NAME.upper(),
        f"Số phiếu: {ticket}",
        "Vui lòng chờ cán bộ một cửa gọi số phiếu này.",
        f"In lúc {printed_at:%H:%M %d/%m/%Y}",
    )
    return Slip(ticket_payload(ticket, issuing_system, printed_at), lines)
