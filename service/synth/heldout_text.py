"""Contents of held-out pages: headers invented per slice, body text from corpus rows no other
renderer reads (``bench/data/heldout_corpus.jsonl``), with digit- and punctuation-dense lines.

Each slice has its own agencies, places and source documents, so the ``never`` slice shares
neither fonts (see :mod:`service.synth.heldout`) nor texts nor header values with ``tune``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from service.domain.errors import InputError

Run = tuple[str, str]
Runs = tuple[Run, ...]

# (parent agency or None, issuing agency as printed line by line, abbreviation in the number)
AGENCIES: dict[str, list[tuple[str | None, tuple[str, ...], str]]] = {
    "tune": [(None, ("BỘ TƯ PHÁP",), "BTP"), ("UBND TỈNH QUẢNG NAM", ("SỞ TƯ PHÁP",), "STP"),
             (None, ("ỦY BAN NHÂN DÂN", "HUYỆN ĐIỆN BÀN"), "UBND"), ("BỘ Y TẾ", ("CỤC QUẢN LÝ DƯỢC",), "QLD"),
             ("UBND THÀNH PHỐ HỘI AN", ("PHÒNG TƯ PHÁP",), "PTP"), (None, ("BỘ CÔNG THƯƠNG",), "BCT")],
    "never": [(None, ("VĂN PHÒNG CHÍNH PHỦ",), "VPCP"), (None, ("ỦY BAN NHÂN DÂN", "TỈNH KON TUM"), "UBND"),
              ("BỘ TÀI NGUYÊN VÀ MÔI TRƯỜNG", ("TỔNG CỤC QUẢN LÝ ĐẤT ĐAI",), "TCQLĐĐ"),
              ("UBND TỈNH LÂM ĐỒNG", ("SỞ GIAO THÔNG VẬN TẢI",), "SGTVT"), (None, ("BỘ GIÁO DỤC VÀ ĐÀO TẠO",), "BGDĐT"),
              ("UBND HUYỆN ĐẮK HÀ", ("ỦY BAN NHÂN DÂN", "XÃ ĐẮK MAR"), "UBND")],
}
PLACES = {"tune": ("Hà Nội", "Tam Kỳ", "Điện Bàn", "Hội An"), "never": ("Hà Nội", "Kon Tum", "Đà Lạt", "Đắk Hà")}
TYPES = (("Quyết định", "QĐ"), ("Thông báo", "TB"), ("Kế hoạch", "KH"), ("Chỉ thị", "CT"), ("Báo cáo", "BC"),
         ("Hướng dẫn", "HD"), ("Nghị quyết", "NQ"), ("Tờ trình", "TTr"))
SUMMARY_FORMS = ("Về việc triển khai thi hành Luật {law}", "Ban hành Kế hoạch thực hiện Luật {law} năm {year} "
                 "trên địa bàn {place}", "Về việc công bố danh mục thủ tục hành chính theo Luật {law}",
                 "Hướng dẫn một số nội dung của Luật {law}", "Về tăng cường kiểm tra việc chấp hành Luật {law}")
NAMES = ("Nguyễn Văn Hùng", "Trần Thị Mai", "Lê Quang Vinh", "Phạm Minh Đức", "Hoàng Thị Thu Hằng", "Võ Thành Nhân")
SIGNERS = (("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"), ("KT. BỘ TRƯỞNG", "THỨ TRƯỞNG"), ("GIÁM ĐỐC",),
           ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"), ("Q. CỤC TRƯỞNG",))


@dataclass(frozen=True, slots=True)
class HeldoutSpec:
    """Everything printed on one held-out page, with the extraction truth it implies."""

    id: str
    slice: str
    parent_agency: str | None
    agency_lines: tuple[str, ...]
    doc_type: str
    number_symbol: str
    issue_date: str  # ISO
    place: str
    summary: str
    preamble: tuple[Runs, ...]
    table_intro: Runs
    table: tuple[tuple[str, ...], ...]
    articles: tuple[Runs, ...]
    recipients: tuple[str, ...]
    signer_title: tuple[str, ...]
    signer_name: str

    @property
    def issuing_agency(self) -> str:
        """The issuing agency as one string (its printed lines joined by a space)."""
        return " ".join(self.agency_lines)

    @property
    def date_line(self) -> str:
        """"<Place>, ngày DD tháng M năm YYYY" (day and months 1–2 zero-padded, NĐ 30 style)."""
        d = dt.date.fromisoformat(self.issue_date)
        month = f"{d.month:02d}" if d.month < 3 else str(d.month)
        return f"{self.place}, ngày {d.day:02d} tháng {month} năm {d.year}"


def load_rows(path: Path) -> list[dict[str, object]]:
    """Rows of ``heldout_corpus.jsonl``; InputError if missing or malformed."""
    if not path.is_file():
        raise InputError(f"held-out corpus {path} not found", remedy="restore bench/data/heldout_corpus.jsonl")
    rows = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(raw)
            if not isinstance(row.get("paragraphs"), list) or row.get("slice") not in ("tune", "never"):
                raise ValueError("missing paragraphs or slice")
        except ValueError as exc:
            raise InputError(f"{path}:{n}: bad held-out row: {exc}", remedy="restore the file from git") from exc
        rows.append(row)
    return rows


def _sentence_case(name: str) -> str:
    low = unicodedata.normalize("NFC", name).lower()
    return low[:1].upper() + low[1:]


def _italic_run(text: str, rng: random.Random) -> Runs:
    """``text`` as runs, a few words in the middle set in italic (or bold) about half the time."""
    words = text.split()
    if len(words) < 12 or rng.random() < 0.5:
        return ((text, "regular"),)
    a = rng.randrange(3, len(words) - 6)
    b = a + rng.randint(2, 5)
    style = "italic" if rng.random() < 0.7 else "bold"
    return ((" ".join(words[:a]), "regular"), (" ".join(words[a:b]), style), (" ".join(words[b:]), "regular"))


def _ref_date(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1, 28), rng.randint(1, 12), rng.randint(2008, 2024)


def _preamble(row: dict[str, object], law: str, short: str, rng: random.Random) -> tuple[Runs, ...]:
    iso = str(row["issue_date"])
    y, m, d = (int(v) for v in iso.split("-"))
    out: list[Runs] = [((f"Căn cứ Luật {law} số {row['number_symbol']} ngày {d:02d} tháng {m} năm {y};", "regular"),)]
    dd, mm, yy = _ref_date(rng)
    out.append(((f"Căn cứ Nghị định số {rng.randint(10, 199)}/{yy}/NĐ-CP ngày {dd:02d}/{mm:02d}/{yy} của Chính phủ "
                 f"quy định chi tiết khoản {rng.randint(1, 9)} Điều {rng.randint(2, 60)}, điểm "
                 f"{rng.choice('abcdđe')} khoản {rng.randint(1, 5)} Điều {rng.randint(2, 60)} của Luật {law};",
                 "regular"),))
    dd, mm, yy = _ref_date(rng)
    out.append(((f"Theo đề nghị tại Tờ trình số {rng.randint(1, 999)}/TTr-{short} ngày {dd:02d}/{mm:02d}/{yy} "
                 f"(kèm theo {rng.randint(2, 15)} phụ lục; tổng kinh phí {rng.randint(1, 99)},{rng.randint(0, 9)} "
                 f"tỷ đồng, đạt {rng.randint(80, 99)},{rng.randint(0, 9)} %).", "regular"),))
    return tuple(out)


def _table(row: dict[str, object], rng: random.Random) -> tuple[tuple[str, ...], ...]:
    paras = [str(p) for p in row["paragraphs"]]  # type: ignore[attr-defined]
    out = [("STT", "Tên thủ tục hành chính", "Mã số", "Thời hạn")]
    for i in range(rng.randint(2, 4)):
        words = paras[(i * 3 + 1) % len(paras)].split()
        words = [w for w in words if not w[:1].isdigit()][:7]
        name = " ".join(words).rstrip(",;:.")
        out.append((str(i + 1), name, f"{rng.randint(1, 2)}.{rng.randint(0, 12999):06d}",
                    f"{rng.randint(3, 30):02d} ngày"))
    return tuple(out)


def build_spec(row: dict[str, object], k: int, seed: int) -> HeldoutSpec:
    """One page's contents from a corpus row (``k`` picks the header values; deterministic)."""
    rng = random.Random(f"{row['id']}/{k}/{seed}")
    slice_ = str(row["slice"])
    parent, agency, short = AGENCIES[slice_][k % len(AGENCIES[slice_])]
    doc_type, abbr = TYPES[(k * 3 + seed) % len(TYPES)]
    place = rng.choice(PLACES[slice_])
    year = rng.randint(2016, 2025)
    iso = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    number = (f"{rng.randint(1, 3999)}/{abbr}-{short}" if rng.random() < 0.7
              else f"{rng.randint(1, 99):02d}/{year}/{abbr}-{short}")
    law = _sentence_case(str(row["law_name"]))
    summary = rng.choice(SUMMARY_FORMS).format(law=law.lower(), year=year, place=f"tỉnh {place}")
    if rng.random() < 0.3:  # many offices print the summary in capitals
        summary = summary.upper()
    paras = [str(p) for p in row["paragraphs"]]  # type: ignore[attr-defined]
    articles: list[Runs] = []
    for n, p in enumerate(paras[1:6], start=1):
        runs = _italic_run(p, rng)
        articles.append(((f"Điều {n}.", "bold"), *runs) if rng.random() < 0.6 else runs)
    intro: Runs = ((f"Danh mục gồm {len(paras)} thủ tục, hiệu lực từ ngày {rng.randint(1, 28):02d}/"
                    f"{rng.randint(1, 12):02d}/{year + 1}; liên hệ: (0{rng.randint(200, 299)}) "
                    f"{rng.randint(3, 3)}.{rng.randint(100, 999)}.{rng.randint(100, 999)}, mã hồ sơ "
                    f"H{rng.randint(10, 99)}.{rng.randint(10, 99)}-{rng.randint(100000, 999999)}-"
                    f"{rng.randint(1, 9999):04d}:", "regular"),)
    recipients = ("- Như Điều 3;", f"- {rng.choice(('Văn phòng Chính phủ', 'Thường trực HĐND tỉnh', 'Sở Tư pháp'))};",
                  f"- Lưu: VT, {short}.")
    return HeldoutSpec(
        id=f"{row['id']}#{k}", slice=slice_, parent_agency=parent, agency_lines=agency, doc_type=doc_type,
        number_symbol=number, issue_date=iso, place=place, summary=summary,
        preamble=_preamble(row, law, short, rng) if rng.random() < 0.7 else (), table_intro=intro,
        table=_table(row, rng),
        articles=tuple(articles), recipients=recipients, signer_title=rng.choice(SIGNERS),
        signer_name=rng.choice(NAMES))


def specs_for(rows: list[dict[str, object]], slice_: str, count: int, seed: int = 0) -> list[HeldoutSpec]:
    """``count`` page contents of one slice, one source row each (cycling the header values)."""
    mine = [r for r in rows if r["slice"] == slice_]
    if not mine:
        raise InputError(f"no rows of slice {slice_!r}", remedy="use slice 'tune' or 'never'")
    return [build_spec(mine[i % len(mine)], i, seed) for i in range(count)]
