"""Tone-mark restoration for agency names: OCR often drops or swaps a tone mark ("UY BAN", "SƠ NỘI VỤ").

Only words written entirely without diacritics are touched (a word that carries marks may be a
place name such as ĐỨC or BẢN): such a word, when it is not in the vocabulary but its form matches
exactly one vocabulary word, is replaced by it. Ambiguous folds ("TAI" = TÀI / TẢI) are left alone.
"""

from __future__ import annotations

from service.domain.provinces import CCCD_PROVINCES
from service.domain.text import fold

_WORDS = """
ỦY BAN NHÂN DÂN HỘI ĐỒNG TỈNH THÀNH PHỐ HUYỆN QUẬN THỊ XÃ PHƯỜNG TRẤN SỞ BỘ PHÒNG CỤC CHI TỔNG BAN CÔNG AN
TÀI CHÍNH NGUYÊN VÀ MÔI TRƯỜNG NỘI VỤ Y TẾ GIÁO DỤC ĐÀO TẠO KẾ HOẠCH ĐẦU TƯ PHÁP LAO ĐỘNG THƯƠNG BINH HỘI
VĂN HÓA HOÁ THỂ THAO DU LỊCH TRUNG TÂM PHỦ QUỐC THỦ TƯỚNG NGÂN HÀNG KHO BẠC NHÀ NƯỚC THUẾ HẢI QUAN NÔNG
NGHIỆP PHÁT TRIỂN THÔN CÔNG THƯƠNG XÂY DỰNG GIAO THÔNG VẬN TẢI KHOA HỌC NGHỆ THÔNG TIN TRUYỀN NGOẠI PHÒNG
QUẢN LÝ DỰ ÁN KHU CẢNH SÁT ĐIỀU TRA TÒA ÁN TOÀ VIỆN KIỂM SÁT THANH ĐOÀN BẢO HIỂM DÂN TỘC TÔN GIÁO ĐĂNG KÝ
ĐẤT ĐAI ĐỊA CHÍNH HỘ TỊCH CƯ TRÚ VĂN THƯ LƯU TRỮ HÀNH CHÍNH MỘT CỬA KẾT QUẢ BỆNH CHỦ TỊCH
CỘNG HÒA HOÀ XHCN VIỆT NAM TRƯỞNG PHÓ QUY HOẠCH KINH TẾ HẠ TẦNG ĐÔ THỊ CHỈ HUY QUÂN SỰ BIÊN PHÒNG
"""


def _vocabulary() -> dict[str, str | None]:
    words = set(_WORDS.split())
    for name in CCCD_PROVINCES.values():
        words.update(name.upper().replace("-", " ").split())
    by_fold: dict[str, str | None] = {}
    for w in words:
        key = fold(w)
        by_fold[key] = None if key in by_fold and by_fold[key] != w else w
    return by_fold


_BY_FOLD = _vocabulary()
_KNOWN = {w for w in _BY_FOLD.values() if w}


def restore_agency(text: str) -> tuple[str, int]:
    """``text`` with accent-free upper-case words restored when unambiguous; returns (text, fixes)."""
    out, fixes = [], 0
    for word in text.split(" "):
        letters = [c for c in word if c.isalpha()]
        if not letters or not all(c.isupper() for c in letters) or word in _KNOWN or fold(word) != word.lower():
            out.append(word)
            continue
        fixed = _BY_FOLD.get(fold(word))
        if fixed is not None and fixed != word:
            out.append(fixed)
            fixes += 1
        else:
            out.append(word)
    return " ".join(out), fixes
