"""Key-value lines of certificates and forms ("Họ và tên: …", "Ngày sinh: …", "Có giá trị đến ngày …").

Labels are matched accent- and case-insensitively with a fuzzy ratio so OCR noise
("Ho va ten", "Ngảy sinh", "S6 dinh danh") still finds the key. A value that wraps onto the next
line (indented, close below, without a label of its own) is joined to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from service.domain.text import fold
from service.extract.lines import Line, mean_confidence, typical_height

# (target, labels as printed). Target is an Art. 9 field name or "extra:<key>".
KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("owner_name", ("Họ và tên", "Họ tên", "Họ, chữ đệm, tên", "Họ, chữ đệm và tên", "Tên người được cấp",
                    "Họ và tên người yêu cầu", "Chủ hộ", "Họ tên chủ hộ", "Tên chủ xe", "Họ tên chủ xe",
                    "Chủ sở hữu", "Người sử dụng đất", "Họ và tên chủ hộ kinh doanh")),
    ("owner_birth_date", ("Ngày sinh", "Ngày, tháng, năm sinh", "Sinh ngày")),
    ("owner_id", ("Số định danh cá nhân", "Số định danh", "Số CCCD", "Số căn cước", "Số căn cước công dân",
                  "Số CMND", "Số chứng minh nhân dân", "Số giấy tờ tùy thân", "Số hộ chiếu", "Mã số thuế",
                  "Mã số doanh nghiệp", "Mã số hộ kinh doanh", "Mã định danh", "Số CMND/CCCD")),
    ("organization_name", ("Tên doanh nghiệp", "Tên hộ kinh doanh", "Tên tổ chức", "Tên cơ quan, tổ chức",
                           "Tên hợp tác xã", "Tên công ty")),
    ("organization_founded_year", ("Năm thành lập",)),
    ("extra:organization_founded_date", ("Ngày thành lập", "Đăng ký lần đầu", "Đăng ký lần đầu ngày")),
    ("valid_until", ("Có giá trị đến ngày", "Có giá trị đến", "Giá trị đến ngày", "Thời hạn đến ngày",
                     "Có hiệu lực đến ngày", "Ngày hết hạn")),
    ("validity_scope", ("Phạm vi hiệu lực", "Phạm vi sử dụng", "Phạm vi")),
    ("extra:gender", ("Giới tính",)),
    ("extra:nationality", ("Quốc tịch",)),
    ("extra:ethnicity", ("Dân tộc",)),
    ("extra:residence", ("Nơi cư trú", "Nơi thường trú", "Nơi ở hiện tại", "Địa chỉ thường trú", "Địa chỉ",
                         "Nơi đăng ký thường trú", "Địa chỉ trụ sở chính", "Địa điểm kinh doanh")),
    ("extra:place_of_birth", ("Nơi sinh", "Quê quán", "Nơi đăng ký khai sinh")),
    ("extra:marital_status", ("Tình trạng hôn nhân",)),
    ("extra:plate_number", ("Biển số", "Biển số đăng ký", "Biển kiểm soát", "Biển số xe")),
    ("extra:chassis_number", ("Số khung",)),
    ("extra:engine_number", ("Số máy",)),
    ("extra:vehicle_brand", ("Nhãn hiệu",)),
    ("extra:certificate_number", ("Số seri", "Số sê ri", "Số phát hành", "Số giấy chứng nhận", "Số vào sổ cấp GCN",
                                  "Số vào sổ cấp giấy chứng nhận", "Số đăng ký", "Số giấy phép")),
    ("extra:land_parcel", ("Thửa đất số",)),
    ("extra:map_sheet", ("Tờ bản đồ số",)),
    ("extra:land_area", ("Diện tích",)),
    ("extra:land_address", ("Địa chỉ thửa đất",)),
    ("extra:construction_address", ("Địa điểm xây dựng", "Vị trí xây dựng")),
    ("extra:business_lines", ("Ngành, nghề kinh doanh", "Ngành nghề kinh doanh")),
    ("extra:capital", ("Vốn kinh doanh", "Vốn điều lệ")),
)


def _fold_key(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", fold(text).replace("/", " ")).strip()


_FOLDED_KEYS: tuple[tuple[str, str], ...] = tuple(
    (_fold_key(label), target) for target, labels in KEYS for label in labels)

# Phrases that carry a value without a colon (validity period / scope).
_VALID_UNTIL = re.compile(r"(?:co gia tri|co hieu luc|gia tri su dung)\s*(?:su dung\s*)?(?:den|toi)\s*(?:het\s*)?"
                          r"(?:ngay)?\s*(.+)$")
_VALID_MONTHS = re.compile(r"(?:co gia tri|co hieu luc|thoi han)[^0-9]{0,30}?(\d{1,2})\s*(thang|nam)\s*(?:ke tu|tu)")
_INLINE_LABEL = re.compile(r"\s([^\W\d][^:;]{1,30}?)\s*:\s")
_GCN_SERIAL = re.compile(r"^([A-ZĐ]{2})\s?(\d{6})$")
_SCOPE = re.compile(r"co gia tri\s*(?:su dung\s*)?(tren|trong|tai)\s+(?!thoi han)(.+?)[.;]?$")


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One labelled value: the target field, the value text as printed, its lines and match score."""

    target: str
    value: str
    confidence: float
    lines: tuple[Line, ...]


def match_key(label: str, min_ratio: float) -> tuple[str, float] | None:
    """The target field whose label best matches ``label`` (accent/case-insensitive, fuzzy)."""
    key = _fold_key(label)
    if not key or len(key) > 60:
        return None
    best: tuple[str, float] | None = None
    for folded, target in _FOLDED_KEYS:
        ratio = 1.0 if key == folded else SequenceMatcher(None, key, folded, autojunk=False).ratio()
        if ratio >= min_ratio and (best is None or ratio > best[1]):
            best = (target, ratio)
    return best


def _split_label(ln: Line) -> tuple[str, str] | None:
    for sep in (":", "：", ";"):
        if sep in ln.text:
            label, _, value = ln.text.partition(sep)
            return label.strip(" .-•"), value.strip()
    return None


def key_values(lines: list[Line], min_ratio: float) -> list[KeyValue]:
    """All labelled values in ``lines`` (reading order), continuation lines joined."""
    out: list[KeyValue] = []
    h = typical_height(lines)
    i = 0
    while i < len(lines):
        ln = lines[i]
        parts = _split_label(ln)
        hit = match_key(parts[0], min_ratio) if parts else None
        if parts is None or hit is None:
            phrase = _phrase(ln)
            if phrase is not None:
                out.append(phrase)
            i += 1
            continue
        taken = [ln]
        value = parts[1]
        j = i + 1
        while j < len(lines) and value:
            nxt = lines[j]
            close = 0 <= nxt.top - taken[-1].bottom < 0.8 * h and nxt.page == ln.page
            indented = nxt.box[0] > ln.box[0] + 0.5 * h
            nxt_parts = _split_label(nxt)
            labelled = nxt_parts is not None and match_key(nxt_parts[0], min_ratio) is not None
            if not (close and indented) or labelled or _phrase(nxt) is not None:
                break
            value = f"{value} {nxt.text}"
            taken.append(nxt)
            j += 1
        conf = mean_confidence(taken) * min(1.0, hit[1] + 0.05)
        target = hit[0]
        for second in _INLINE_LABEL.finditer(value):  # "Giới tính: Nam   Dân tộc: Kinh"
            other = match_key(second.group(1), min_ratio)
            if other is not None:
                out.append(KeyValue(other[0], value[second.end():].strip(), conf, tuple(taken)))
                value = value[:second.start()].strip()
                break
        if value:
            out.append(KeyValue(target, value, conf, tuple(taken)))
        i = j
    return out


def _phrase(ln: Line) -> KeyValue | None:
    """"Có giá trị đến ngày …", "có giá trị 06 tháng kể từ …", "có giá trị sử dụng trên toàn quốc"."""
    serial = _GCN_SERIAL.match(ln.text)
    if serial:  # land-use certificate issue number, e.g. "AB 123456" (printed without a label)
        return KeyValue("extra:certificate_serial", f"{serial.group(1)} {serial.group(2)}", ln.confidence, (ln,))
    m = _VALID_UNTIL.search(ln.folded)
    if m:
        return KeyValue("valid_until", ln.text[m.start(1):m.end(1)].strip(" ."), ln.confidence, (ln,))
    m = _VALID_MONTHS.search(ln.folded)
    if m:
        unit = "months" if m.group(2) == "thang" else "years"
        return KeyValue("validity_period", f"{int(m.group(1))} {unit}", ln.confidence, (ln,))
    m = _SCOPE.search(ln.folded)
    if m:
        return KeyValue("validity_scope", ln.text[m.start(2):m.end(2)].strip(" ."), ln.confidence, (ln,))
    return None
