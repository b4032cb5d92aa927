"""The report as XLSX (openpyxl), CSV (UTF-8 with BOM, for Excel) or one self-contained HTML file.

All three show the same :mod:`service.reports.table` sections. XLSX: one sheet per section,
counts as numbers, ratios as numbers in percent format; HTML: inline CSS and inline SVG charts,
nothing fetched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from html import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from service.domain.reports import Dimension, Report
from service.reports.svg import bar_chart
from service.reports.table import COUNTS, NOTE, RATIOS, TITLE, TOTAL, Table, period_line, shown, tables

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def to_xlsx(report: Report) -> bytes:
    """An .xlsx workbook: sheets "Theo đơn vị", "Theo cán bộ", "Theo thủ tục"."""
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    n_keys, n_counts = 2, len(COUNTS)
    for tab in tables(report):
        ws = wb.create_sheet(tab.title)
        ws.append([TITLE])
        ws.append([period_line(report)])
        ws.append(list(tab.header))
        for row in tab.rows:
            ws.append(list(row))
        ws.append([])
        ws.append([NOTE])
        ws["A1"].font = Font(bold=True, size=13)
        for cell in ws[3]:
            cell.font, cell.fill = _BOLD, _HEAD_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for cell in ws[3 + len(tab.rows)]:
            cell.font = _BOLD
        for r in ws.iter_rows(min_row=4, max_row=3 + len(tab.rows), min_col=n_keys + n_counts + 1):
            for cell in r:
                cell.number_format = "0.0%"
        ws.column_dimensions["A"].width = 24
        ws.column_dimensions["B"].width = 36
        for i in range(n_keys + 1, n_keys + n_counts + len(RATIOS) + 1):
            ws.column_dimensions[get_column_letter(i)].width = 14
        ws.freeze_panes = "C4"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_csv(report: Report) -> bytes:
    """CSV, UTF-8 with BOM: a "Nhóm" column, the sections one after the other; ratios in percent."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    n = 2 + len(COUNTS)
    w.writerow(["Nhóm", "Mã", "Tên", *(h for _, h in COUNTS), *(f"{h} (%)" for _, h in RATIOS)])
    for tab in tables(report):
        for row in tab.rows:
            w.writerow([tab.title, *row[:n], *("" if v is None else round(float(v) * 100, 1) for v in row[n:])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def charts(report: Report) -> dict[Dimension, str]:
    """One SVG per section: received, components, results and reused per row; plus the ratios."""
    out: dict[Dimension, str] = {}
    for tab in tables(report):
        rows = tab.rows[:-1]
        labels = [str(r[0]) if not r[1] else f"{r[0]} {r[1]}" for r in rows]
        series = [(h, [float(r[2 + i] or 0) for r in rows]) for i, (_, h) in enumerate(COUNTS[:4])]
        out[tab.dimension] = bar_chart(f"Số liệu {tab.title.lower()}", labels, series,
                                       test_id=f"chart-{tab.dimension.value}")
    return out


def ratio_chart(report: Report) -> str:
    """The three ratios of the total as a percent bar chart."""
    t = report.total
    vals = [getattr(t, a) for a, _ in RATIOS]
    return bar_chart("Các tỷ lệ (tổng cộng)", [h for _, h in RATIOS],
                     [("Tỷ lệ", [0.0 if v is None else float(v) for v in vals])], percent=True,
                     test_id="chart-ratios")


_CSS = ("body{font-family:'Liberation Sans','DejaVu Sans',Arial,sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse;margin:8px 0 24px}th,td{border:1px solid #999;padding:4px 8px}"
        "th{background:#ddebf7}td.n{text-align:right}tr.total td{font-weight:bold;background:#f3f3f3}"
        "h1{font-size:18px}h2{font-size:16px;margin-top:28px}.note{color:#555;font-size:13px}")


def _table_html(tab: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in tab.header)
    body = []
    for row in tab.rows:
        cls = ' class="total"' if row[0] == TOTAL else ""
        cells = "".join(f'<td class="n">{escape(v)}</td>' if i >= 2 else f"<td>{escape(v)}</td>"
                        for i, v in enumerate(shown(row)))
        body.append(f"<tr{cls}>{cells}</tr>")
    return (f'<table data-section="{tab.dimension.value}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def to_html(report: Report) -> bytes:
    """One self-contained HTML page (inline CSS and SVG; no script, no external resource)."""
    svgs = charts(report)
    parts = ['<!doctype html><html lang="vi"><head><meta charset="utf-8">',
             f"<title>{escape(TITLE)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{escape(TITLE)}</h1><p>{escape(period_line(report))}</p>", ratio_chart(report)]
    for tab in tables(report):
        parts += [f"<h2>{escape(tab.title)}</h2>", svgs[tab.dimension], _table_html(tab)]
    parts += [f'<p class="note">{escape(NOTE)}</p>', "</body></html>"]
    return "".join(parts).encode("utf-8")


#: Output format by file extension.
WRITERS: dict[str, Callable[[Report], bytes]] = {".xlsx": to_xlsx, ".csv": to_csv, ".html": to_html}
#: MIME type by extension (downloads).
MEDIA_TYPES: dict[str, str] = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8", ".html": "text/html; charset=utf-8"}

