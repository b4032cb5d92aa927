"""The report's tables as every output shows them: Vietnamese headers, rows, the "Tổng cộng" row.

One definition for the XLSX, CSV and HTML writers and the kiosk page, so they cannot disagree.
Counts stay numbers and ratios fractions (None when the denominator is 0); only :func:`percent`
turns a ratio into text, for pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.domain.reports import Counts, Dimension, Report, show_date

TITLE = "BÁO CÁO KẾT QUẢ SỐ HÓA HỒ SƠ, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
TOTAL = "Tổng cộng"
NO_PROCEDURE = "(không theo thủ tục)"
NOTE = ("Ghi chú: cách tính ba tỷ lệ theo Bộ chỉ số phục vụ người dân, doanh nghiệp (QĐ 766/QĐ-TTg) "
        "chưa được xác nhận với văn bản gốc; xem cấu hình reports.ratios.")

#: Sheet / section title per dimension.
SECTION: dict[Dimension, str] = {Dimension.OFFICE: "Theo đơn vị", Dimension.OFFICER: "Theo cán bộ",
                                 Dimension.PROCEDURE: "Theo thủ tục"}
#: The two key columns per dimension.
KEY_HEADERS: dict[Dimension, tuple[str, str]] = {
    Dimension.OFFICE: ("Mã đơn vị", "Tên đơn vị"), Dimension.OFFICER: ("Tài khoản cán bộ", "Tên cán bộ"),
    Dimension.PROCEDURE: ("Mã thủ tục", "Tên thủ tục")}
#: Count columns: attribute of :class:`Counts`, header.
COUNTS: tuple[tuple[str, str], ...] = (
    ("received", "Hồ sơ tiếp nhận"), ("components", "Thành phần hồ sơ đã số hóa"),
    ("results", "Kết quả đã số hóa"), ("reused", "Giấy tờ tái sử dụng"), ("requests", "Yêu cầu bổ sung"),
    ("returned", "Hồ sơ đã trả"), ("on_time", "Trả đúng hạn"), ("late", "Trả quá hạn"))
#: Ratio columns: property of :class:`Counts`, header.
RATIOS: tuple[tuple[str, str], ...] = (
    ("components_ratio", "Tỷ lệ hồ sơ số hóa đủ thành phần"), ("results_ratio", "Tỷ lệ số hóa kết quả"),
    ("reuse_ratio", "Tỷ lệ tái sử dụng"))
DIMENSIONS: tuple[Dimension, ...] = (Dimension.OFFICE, Dimension.OFFICER, Dimension.PROCEDURE)

Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class Table:
    """One section: its title, header and rows (the last one is the total)."""

    dimension: Dimension
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def values(counts: Counts) -> tuple[Cell, ...]:
    """The counts then the ratios of one row."""
    return (*(int(getattr(counts, a)) for a, _ in COUNTS), *(getattr(counts, a) for a, _ in RATIOS))


def header(dim: Dimension) -> tuple[str, ...]:
    """The column headers of a section."""
    return (*KEY_HEADERS[dim], *(h for _, h in COUNTS), *(h for _, h in RATIOS))


def tables(report: Report) -> list[Table]:
    """The three sections of ``report``, each ending with its "Tổng cộng" row."""
    out = []
    for dim in DIMENSIONS:
        rows: list[tuple[Cell, ...]] = [(r.key or "—", r.name, *values(r.counts)) for r in report.tables[dim]]
        rows.append((TOTAL, "", *values(report.total)))
        out.append(Table(dim, SECTION[dim], header(dim), tuple(rows)))
    return out


def period_line(report: Report) -> str:
    """``Tháng 01/2027 (từ ngày 01/01/2027 đến ngày 31/01/2027)``, and the office when filtered."""
    p = report.period
    span = f"từ ngày {show_date(p.first)} đến ngày {show_date(p.last)}"
    head = f"Tháng {p.first.month:02d}/{p.first.year} ({span})" if p.month else span[0].upper() + span[1:]
    return head + (f" — đơn vị {report.office_filter}" if report.office_filter else "")


def percent(ratio: float | None) -> str:
    """A ratio as a page shows it: ``66,7%`` (Vietnamese decimal comma), ``—`` when undefined."""
    if ratio is None:
        return "—"
    return f"{ratio * 100:.1f}".replace(".", ",") + "%"


def shown(cells: Sequence[Cell]) -> list[str]:
    """A row as page text: counts as digits, ratios as percentages."""
    n_keys, n_counts = 2, len(COUNTS)
    return [str(c) if i < n_keys + n_counts else percent(c if not isinstance(c, str) else None)
            for i, c in enumerate(cells)]
