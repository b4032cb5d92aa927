"""Tone-mark restoration for agency names: OCR often drops or swaps a tone mark ("UY BAN", "SƠ NỘI VỤ").

Only words written entirely without diacritics are touched (a word that carries marks may be a
place name such as ĐỨC or BẢN): such a word, when it is not in the vocabulary but its form matches
exactly one vocabulary word, is replaced by it. Ambiguous folds ("TAI" = TÀI / TẢI) are left to the
phrase rule below.
Words that carry a wrong mark, and ambiguous accent-free ones, are restored only inside a fixed
agency phrase ("BỘ TỪ PHÁP" → "BỘ TƯ PHÁP": no agency name holds "TỪ PHÁP"; "GIAO THÔNG VẬN TÁI";
"NHÂN DÂN TINH" → "NHÂN DÂN TỈNH", though TINH alone may be the TĨNH of Hà Tĩnh), where the whole
phrase folds to the known one. The first word names the kind of body, so one that folds to such a
head word is that word ("SỚ TƯ PHÁP" → "SỞ TƯ PHÁP").
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
#: Phrases of agency names; a run of words folding to one of them is that phrase.
_PHRASES = tuple(p.split() for p in (
    "TƯ PHÁP", "NHÂN DÂN", "CHÍNH PHỦ", "VĂN PHÒNG", "TÀI NGUYÊN", "MÔI TRƯỜNG", "GIÁO DỤC", "ĐÀO TẠO",
    "CÔNG THƯƠNG", "NỘI VỤ", "TÀI CHÍNH", "Y TẾ", "QUẢN LÝ", "ĐẤT ĐAI", "GIAO THÔNG VẬN TẢI", "XÂY DỰNG",
    "KẾ HOẠCH", "ĐẦU TƯ", "LAO ĐỘNG", "THƯƠNG BINH", "XÃ HỘI", "VĂN HÓA", "THỂ THAO", "DU LỊCH", "NÔNG NGHIỆP",
    "PHÁT TRIỂN", "NÔNG THÔN", "KHOA HỌC", "CÔNG NGHỆ", "THÔNG TIN", "TRUYỀN THÔNG", "HỘI ĐỒNG", "ỦY BAN",
    "TỔNG CỤC", "CHI CỤC", "THANH TRA", "KHO BẠC", "NGÂN HÀNG", "HẢI QUAN", "BẢO HIỂM", "CÔNG AN",
    # the unit an ủy ban / hội đồng nhân dân belongs to
    "DÂN TỈNH", "DÂN HUYỆN", "DÂN QUẬN", "DÂN XÃ", "DÂN PHƯỜNG", "DÂN THỊ XÃ", "DÂN THỊ TRẤN", "DÂN THÀNH PHỐ"))
_PHRASE_FOLDS = {tuple(fold(w) for w in p): p for p in _PHRASES}
_PHRASE_LENGTHS = sorted({len(p) for p in _PHRASES}, reverse=True)


def _restore_phrases(words: list[str]) -> int:
    """Replace, in place, runs of upper-case words that fold to a known phrase; returns the count."""
    fixes = 0
    for i in range(len(words)):
        for n in _PHRASE_LENGTHS:
            run = words[i:i + n]
            phrase = _PHRASE_FOLDS.get(tuple(fold(w) for w in run)) if len(run) == n else None
            # the phrase settles what a word alone cannot: TAI before CHÍNH is TÀI, TINH after NHÂN DÂN is TỈNH
            if phrase is not None and run != phrase and all(w.isupper() for w in run):
                words[i:i + n] = phrase
                fixes += 1
    return fixes


#: Words an agency name opens with (the kind of body); a first word folding to one of them is it.
_HEADS = {fold(w): w for w in ("SỞ", "BỘ", "CỤC", "PHÒNG", "ỦY", "UBND", "TỔNG", "CHI", "VĂN", "TRUNG", "HỘI",
                                "KHO", "NGÂN", "TÒA", "VIỆN", "THANH", "BẢO", "CÔNG", "ĐOÀN", "BAN")}


def _restore_head(words: list[str]) -> int:
    """Restore, in place, the first word when it folds to an agency head ("SỚ TƯ PHÁP" → "SỞ")."""
    head = _HEADS.get(fold(words[0])) if words and words[0].isupper() else None
    if head is None or head == words[0]:
        return 0
    words[0] = head
    return 1


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
    fixes += _restore_phrases(out) + _restore_head(out)
    return " ".join(out), fixes


# Administrative-unit words that open each comma-separated part of a Vietnamese address.
_UNITS = ("tỉnh", "huyện", "phường", "thị trấn", "thị xã", "thành phố", "quận", "thôn", "xóm", "khu phố", "tổ dân phố",
          "xã", "ấp", "bản", "tổ", "số")
_UNIT_BY_FOLD = {fold(u): u for u in _UNITS}


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by exactly one substitution, insertion or deletion."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _fix_unit(word: str) -> str | None:
    """The unit word ``word`` was meant to be (else ``None``): accent-free OCR output ("tnh", "Thon"),
    or a lower-case word one letter off a unit ("tiỉnh").

    A capitalised word with diacritics is a place (Tịnh Biên, Bình Phước) and is never touched, nor a
    word that differs from a unit by its marks alone ("quán" is not "quận").
    """
    key = fold(word)
    marked = key != word.lower()
    if key in _UNIT_BY_FOLD:
        unit = _UNIT_BY_FOLD[key]
        return None if marked or word.lower() == unit else unit
    if marked and not word.islower():
        return None
    hits = [u for k, u in _UNIT_BY_FOLD.items()
            if len(k) >= 4 and " " not in k and k[0] == key[:1] and _one_edit(key, k)]
    return hits[0] if len(hits) == 1 else None


def restore_address(text: str) -> tuple[str, int]:
    """Fix the unit word opening each part of an address ("tnh Nam Định" -> "tỉnh Nam Định")."""
    parts, fixes = [], 0
    for part in text.split(", "):
        words = part.split(" ")
        fixed = _fix_unit(words[0]) if len(words) > 1 else None
        if fixed is not None:
            words[0] = fixed[0].upper() + fixed[1:] if words[0][:1].isupper() else fixed
            fixes += 1
        parts.append(" ".join(words))
    return ", ".join(parts), fixes
