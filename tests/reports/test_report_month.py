"""A month of known activity through the real use cases; every cell of the XLSX and the CSV is checked."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from service.cli.main import main
from service.config import Config
from service.paths import get_paths
from service.reports.config import RatioConfig, ReportsConfig
from service.usecases import reports
from tests.reports.activity import MONTH, OTHER, build_known_activity

H99 = "000.00.70.H99"
# key, name, received, components, results, reused, requests, returned, on time, late, then the three ratios
OFFICES = [
    (OTHER, "", 1, 1, 1, 1, 0, 1, 0, 1, 1.0, 1.0, 0.5),
    (H99, "UBND xã Thử Nghiệm", 2, 3, 2, 0, 1, 2, 2, 0, 0.5, 2 / 3, 0.0),
]
OFFICERS = [
    ("canbo-a", "", 2, 3, 1, 0, 0, 1, 1, 0, 0.5, 0.5, 0.0),
    ("canbo-b", "", 1, 1, 2, 1, 1, 2, 1, 1, 1.0, 1.0, 0.5),
]
PROCEDURES = [
    ("1.000894", "Đăng ký kết hôn", 1, 1, 2, 1, 0, 2, 1, 1, 1.0, 1.0, 0.5),
    ("1.001193", "Đăng ký khai sinh", 2, 3, 1, 0, 1, 1, 1, 0, 0.5, 0.5, 0.0),
]
TOTAL = ("Tổng cộng", "", 3, 4, 3, 1, 1, 3, 2, 1, 2 / 3, 0.75, 0.2)
COLUMNS = ["Hồ sơ tiếp nhận", "Thành phần hồ sơ đã số hóa", "Kết quả đã số hóa", "Giấy tờ tái sử dụng",
           "Yêu cầu bổ sung", "Hồ sơ đã trả", "Trả đúng hạn", "Trả quá hạn", "Tỷ lệ hồ sơ số hóa đủ thành phần",
           "Tỷ lệ số hóa kết quả", "Tỷ lệ tái sử dụng"]
SHEETS = {"Theo đơn vị": (("Mã đơn vị", "Tên đơn vị"), OFFICES), "Theo cán bộ": (("Tài khoản cán bộ", "Tên cán bộ"),
                                                                                 OFFICERS),
          "Theo thủ tục": (("Mã thủ tục", "Tên thủ tục"), PROCEDURES)}
PERIOD = "Tháng 03/2027 (từ ngày 01/03/2027 đến ngày 31/03/2027)"


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float):
        return isinstance(got, int | float) and not isinstance(got, bool) and got == pytest.approx(want)
    if want == "":
        return got is None or got == ""
    return type(got) is type(want) and got == want


def check_xlsx(path: Path) -> None:
    """Every cell of every sheet (nothing else is written)."""
    wb = load_workbook(path)
    assert wb.sheetnames == list(SHEETS)
    for name, (keys, rows) in SHEETS.items():
        ws = wb[name]
        want: list[tuple[Any, ...]] = [(reports.TITLE,), (PERIOD,), (*keys, *COLUMNS), *rows, TOTAL, (),
                                       (reports.NOTE,)]
        assert ws.max_row == len(want) and ws.max_column == 13, name
        for r, row in enumerate(want, 1):
            for c in range(1, 14):
                cell = ws.cell(r, c)
                expected = row[c - 1] if c <= len(row) else ""
                assert _same(cell.value, expected), (name, cell.coordinate, cell.value, expected)
                if 4 <= r < len(want) - 1 and c >= 11:
                    assert cell.number_format == "0.0%", (name, cell.coordinate)
        assert ws.cell(len(want) - 2, 1).font.bold  # the total row


def check_csv(path: Path) -> None:
    """UTF-8 with BOM; every cell, ratios in percent with one decimal."""
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    want = [["Nhóm", "Mã", "Tên", *COLUMNS[:8], *(f"{h} (%)" for h in COLUMNS[8:])]]
    for name, (_keys, data) in SHEETS.items():
        for row in [*data, TOTAL]:
            want.append([name, *(str(v) for v in row[:10]), *(f"{round(v * 100, 1)}" for v in row[10:])])
    assert rows == want


def test_known_month_every_cell(sohoa_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = build_known_activity(sohoa_home)
    assert ids["D3"].startswith(OTHER + "-270301-") and ids["D1"].startswith(H99 + "-270301-")
    xlsx, csv_path, html = tmp_path / "r.xlsx", tmp_path / "r.csv", tmp_path / "r.html"
    for out in (xlsx, csv_path, html):
        assert main(["report", "monthly", "--month", MONTH, "--out", str(out)]) == 0
    check_xlsx(xlsx)
    check_csv(csv_path)
    page = html.read_text(encoding="utf-8")
    assert page.count("<svg") == 4 and "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    assert "Tổng cộng" in page and PERIOD in page and "66,7%" in page and "Đăng ký kết hôn" in page

    # the same days as a range; one office only; the months around it hold only their own activity
    ranged = tmp_path / "g.csv"
    assert main(["report", "range", "--from", "01/03/2027", "--to", "31/03/2027", "--out", str(ranged)]) == 0
    assert [r[3:] for r in csv.reader(io.StringIO(ranged.read_text("utf-8-sig")))][1:] == \
        [r[3:] for r in csv.reader(io.StringIO(csv_path.read_text("utf-8-sig")))][1:]
    paths = get_paths(sohoa_home)
    only = reports.build_report(reports.month_period(MONTH), office=OTHER, paths=paths)
    assert (only.total.received, only.total.components, only.total.reused, only.total.late) == (1, 1, 1, 1)
    april = reports.build_report(reports.month_period("2027-04"), paths=paths).total
    assert (april.received, april.components, april.results, april.returned) == (1, 1, 0, 0)
    feb = reports.build_report(reports.month_period("2027-02"), paths=paths).total
    assert (feb.received, feb.components, feb.results, feb.returned, feb.reused) == (1, 2, 0, 0, 0)

    # the ratio definitions are settings (docs/REGULATION.md §15): each one changes what is counted
    def total(**ratios: Any) -> Any:
        cfg = Config().model_copy(update={"reports": ReportsConfig(ratios=RatioConfig(**ratios))})
        return reports.build_report(reports.month_period(MONTH), paths=paths, config=cfg).total

    assert total(required_components_only=False).complete == 1  # D1 lacks the optional GKH
    assert total(reuse_counts_as_component=False).complete == 1  # D3's XNTTHN was only reused
    settled = total(settled_statuses=["returned"])
    assert (settled.settled, settled.settled_with_result, settled.results_ratio) == (3, 3, 1.0)
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0, capsys.readouterr().out
