"""``sohoa report`` from a fresh store, its refusals, the period rules and the reuse record's rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from service.capture import RawPage
from service.cli.main import main
from service.domain.errors import NotFoundError, ValidationError
from service.domain.reports import Period, local_date, parse_day, parse_month
from service.paths import get_paths
from service.store import Store
from service.usecases import dossier, reports
from service.usecases.dossier import reuse_paper
from tests.spine.helpers import DOC_TYPE, OWNER, page_image


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], rc: int, text: str) -> None:
    capsys.readouterr()
    assert main(argv) == rc
    err = capsys.readouterr().err
    assert text in err and "what to do" in err, err


def test_fresh_store_with_three_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for seed in range(3):
        img = tmp_path / f"p{seed}.jpg"
        img.write_bytes(page_image(seed=seed))
        assert main(["digitize", str(img), "--owner", OWNER, "--doc-type", DOC_TYPE, "--no-ocr"]) == 0
    out = tmp_path / "r.xlsx"
    assert main(["report", "monthly", "--out", str(out)]) == 0
    for ws in load_workbook(out).worksheets:
        total = next(row for row in ws.iter_rows(values_only=True) if row[0] == "Tổng cộng")
        assert total[3] == 3 and isinstance(total[3], int)  # components digitized, a number
        assert total[2] == 0 and total[4] == 0  # no dossier was received, no result digitized
    procedures = load_workbook(out)["Theo thủ tục"]
    assert [r[:4] for r in procedures.iter_rows(min_row=4, max_row=4, values_only=True)] == \
        [("—", "(không theo thủ tục)", 0, 3)]


def test_bad_arguments_are_refused_and_nothing_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.xlsx"
    _refused(capsys, ["report", "monthly", "--month", "2026-13", "--out", str(out)], 5, "not a month")
    _refused(capsys, ["report", "monthly", "--month", "11/2026", "--out", str(out)], 5, "not a month")
    _refused(capsys, ["report", "monthly", "--out", str(tmp_path / "r.pdf")], 5, "not an .xlsx, .csv or .html")
    _refused(capsys, ["report", "monthly", "--out", str(tmp_path / "no" / "r.csv")], 3, "does not exist")
    _refused(capsys, ["report", "monthly", "--out", str(tmp_path)], 5, "not an .xlsx")
    # a folder nobody can create files in, even root (the kernel's /proc)
    _refused(capsys, ["report", "monthly", "--out", "/proc/sohoa-report.html"], 3, "cannot write")
    (tmp_path / "dir.csv").mkdir()
    _refused(capsys, ["report", "monthly", "--out", str(tmp_path / "dir.csv")], 3, "is a folder")
    _refused(capsys, ["report", "monthly", "--office", "h99 x", "--out", str(out)], 5, "office")
    _refused(capsys, ["report", "range", "--from", "31/03/2027", "--to", "01/03/2027", "--out", str(out)], 5,
             "before the start")
    _refused(capsys, ["report", "range", "--from", "2027-03-01", "--to", "31/03/2027", "--out", str(out)], 5,
             "not a date DD/MM/YYYY")
    _refused(capsys, ["report", "range", "--from", "31/02/2027", "--to", "31/03/2027", "--out", str(out)], 5,
             "not a date")
    _refused(capsys, ["report", "range", "--from", "01/01/2025", "--to", "31/03/2027", "--out", str(out)], 5,
             "longer than 366 days")
    assert not out.exists()


def test_periods_are_local_days() -> None:
    feb = parse_month("2028-02")
    assert (feb.first, feb.last) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert parse_month("2027-12").last == dt.date(2027, 12, 31)
    start, end = Period(dt.date(2027, 3, 1), dt.date(2027, 3, 31)).utc_bounds(420)
    assert start == "2027-02-28T17:00:00.000000+00:00" and end == "2027-03-31T17:00:00.000000+00:00"
    assert local_date("2027-02-28T17:30:00+00:00", 420) == dt.date(2027, 3, 1)
    assert parse_day("05/04/2027", "from") == dt.date(2027, 4, 5)
    with pytest.raises(ValidationError):
        parse_month("2027-00")
    now = dt.datetime(2027, 3, 31, 18, 0, tzinfo=dt.UTC)  # 01:00 on 1 April in Việt Nam
    assert reports.month_period(None, now=now).month == "2027-04"


def test_reuse_rules(sohoa_home: Path, tmp_path: Path) -> None:
    img = tmp_path / "p.jpg"
    img.write_bytes(page_image())
    first = dossier.open_dossier("1.000894", OWNER).id
    paper = dossier.Paper(pages=(RawPage(img.read_bytes(), "p"),), fields={}, declared_pages=1)
    done = dossier.attach_component(first, "XNTTHN", paper)
    code = done.procedure.digitized.result_code
    second = dossier.open_dossier("1.000894", OWNER).id
    other = dossier.open_dossier("1.000894", "036195004321").id
    with pytest.raises(ValidationError, match="not part of the procedure"):
        reuse_paper(second, "GCS", code)
    with pytest.raises(ValidationError, match="another owner"):
        reuse_paper(other, "XNTTHN", code)
    with pytest.raises(ValidationError, match="already part of this dossier"):
        reuse_paper(first, "TK", code)
    assert reuse_paper(second, "XNTTHN", code, actor="canbo-b").status == "in_progress"
    with pytest.raises(ValidationError, match="already reused"):
        reuse_paper(second, "XNTTHN", code)
    with Store.open(get_paths(sohoa_home)) as store:
        assert store.dossier_reuses(second) == [("XNTTHN", store.get(code).id)]
        assert [e.action for e in store.audit_entries(second)][-2:] == ["dossier_paper_reused", "dossier_status"]
        assert store.verify().ok


def test_svg_chart_escapes_text_and_needs_no_inline_style() -> None:
    from service.reports.svg import bar_chart

    svg = bar_chart("<b>tựa</b>", ["<script>alert(1)</script>", "b"], [("s&1", [3, 0]), ("s2", [1, 2])],
                    test_id="c")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "s&amp;1" in svg and "style=" not in svg
    assert svg.count('class="chart-bar"') == 4 and 'data-testid="c"' in svg
    widths = [float(w) for w in __import__("re").findall(r'class="chart-bar" x="\d+" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths[0] > widths[3] > widths[1] > widths[2] == 0.0  # 3 > 2 > 1 > 0 on one scale
    assert "Không có số liệu" in bar_chart("t", [], [("s", [])])


def test_reports_config_is_validated_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("reports:\n  utc_offset_minutes: 420\n  ratios:\n    settled_statuses: [done]\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["config", "validate", str(path)]) == 6
    err = capsys.readouterr().err
    assert "config.yaml:4" in err and "settled_statuses" in err
    path.write_text("reports:\n  ratios:\n    settled_statuses: [returned]\n    required_components_only: false\n",
                    encoding="utf-8")
    assert main(["config", "validate", str(path)]) == 0


def test_a_paper_reused_from_the_province_is_recorded_without_its_code_and_counted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A paper the province holds (no local document) is still a reuse: the record keeps only a digest."""
    province_code = f"{OWNER}.G12.99.001"  # not stored on this box
    rec = dossier.open_dossier("1.000894", OWNER)
    with pytest.raises(NotFoundError):
        reuse_paper(rec.id, "XNTTHN", province_code)  # a local reuse needs the stored document
    assert reuse_paper(rec.id, "XNTTHN", province_code, from_province=True).status == "in_progress"
    with pytest.raises(ValidationError, match="already reused"):
        reuse_paper(rec.id, "XNTTHN", province_code, from_province=True)
    with Store.open(get_paths()) as store:
        assert store.dossier_reuses(rec.id) == [("XNTTHN", "")]
        details = [e.details for e in store.audit_entries(rec.id) if e.action == "dossier_paper_reused"]
        assert OWNER not in str(details) and province_code not in str(details)  # no personal data in the audit
        assert store.verify().ok
    out = tmp_path / "r.csv"
    assert main(["report", "monthly", "--out", str(out)]) == 0
    assert "received=1 components=0 results=0 reused=1" in capsys.readouterr().out
