"""Hand-made OCR pages with plausible boxes (A4 at 150 dpi), for extraction tests."""

from __future__ import annotations

from service.ocr.types import OcrLine, OcrPage

WIDTH, HEIGHT = 1240, 1754
LINE_H = 26
CHAR_W = 12
LEFT_CX, RIGHT_CX, CENTRE_CX = 330, 860, 660
TEXT_LEFT = 177


def line(text: str, where: str | int, y: int, conf: float = 0.97) -> OcrLine:
    """One line: ``where`` is "left"/"right"/"centre" (column centre) or an x for a left-aligned line."""
    w = max(CHAR_W, len(text) * CHAR_W)
    if isinstance(where, int):
        x0 = where
    else:
        cx = {"left": LEFT_CX, "right": RIGHT_CX, "centre": CENTRE_CX}[where]
        x0 = cx - w // 2
    return OcrLine(text, (x0, y, x0 + w, y + LINE_H), conf)


def page(*lines: OcrLine) -> OcrPage:
    """A page holding ``lines`` in the given (reading) order."""
    return OcrPage(WIDTH, HEIGHT, tuple(lines))


def header(parent: str | None, agency: str, number: str | None, date_line: str, conf: float = 0.97) -> list[OcrLine]:
    """The NĐ 30 header: agency block left, motto right, number and date on one row."""
    out = []
    y = 120
    if parent:
        out.append(line(parent, "left", y, conf))
        y += 36
    out.append(line(agency, "left", y, conf))
    out.append(line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "right", 120, conf))
    out.append(line("Độc lập - Tự do - Hạnh phúc", "right", 156, conf))
    row = max(y, 156) + 60
    if number:
        out.append(line(number, "left", row, conf))
    out.append(line(date_line, "right", row, conf))
    return out


def decision(conf: float = 0.97) -> OcrPage:
    """A provincial decision (Quyết định) with a two-line summary and body."""
    return page(
        *header("BỘ NỘI VỤ", "SỞ NỘI VỤ TỈNH BÌNH PHƯỚC", "Số: 1403/QĐ-SNV", "Bình Phước, ngày 09 tháng 8 năm 2022",
                conf),
        line("QUYẾT ĐỊNH", "centre", 300, conf),
        line("Về việc ban hành Quy chế số hóa hồ sơ, kết quả giải quyết", "centre", 336, conf),
        line("thủ tục hành chính tại Bộ phận Một cửa", "centre", 372, conf),
        line("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;", 250, 470, conf),
        line("Căn cứ Nghị định số 61/2018/NĐ-CP ngày 23 tháng 4 năm 2018 của Chính phủ;", TEXT_LEFT, 510, conf),
        line("QUYẾT ĐỊNH:", "centre", 600, conf),
    )


def residence_certificate(owner_id: str = "036088001234", dob: str = "14/02/1988",
                          valid: str = "Có giá trị đến ngày 05/09/2024") -> OcrPage:
    """A residence confirmation (Giấy xác nhận thông tin về cư trú) with key-value lines."""
    return page(
        *header("CÔNG AN HUYỆN HẢI HẬU", "CÔNG AN XÃ HẢI MINH", "Số: 152/GXN", "Hải Minh, ngày 05 tháng 3 năm 2024"),
        line("GIẤY XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ", "centre", 300),
        line("Công an xã Hải Minh xác nhận thông tin về cư trú của công dân như sau:", 250, 400),
        line("Họ và tên: NGUYỄN VĂN THỬ", 295, 450),
        line(f"Ngày sinh: {dob}", 295, 486),
        line(f"Số định danh cá nhân: {owner_id}", 295, 522),
        line("Nơi cư trú: Xóm 5, xã Hải Minh, huyện Hải Hậu,", 295, 558),
        line("tỉnh Nam Định", 413, 592),
        line(valid, 295, 650),
        line("TRƯỞNG CÔNG AN XÃ", 900, 760),
    )
