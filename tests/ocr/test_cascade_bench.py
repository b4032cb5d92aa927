"""``python -m bench.cascade`` scores cascade rules from one recorded reading of each page: what it
reports for a rule must be what the engine itself reads with that rule, or its choices mislead."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cascade import RULES, main, page_under, record, table
from bench.ocr_pages import heldout_pages
from service.ocr.engine import get_engine


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list:
    engine = get_engine()
    pages = heldout_pages(tmp_path_factory.mktemp("cascade-pages"), "tune", 1)  # clean, scanner, phone
    return record(engine, pages, engine.config.model_copy(update=RULES[0][1]))


def test_the_shipped_rule_scored_offline_is_the_page_the_engine_reads(recorded: list) -> None:
    engine = get_engine()
    assert {rec.page.condition for rec in recorded} == {"clean", "scanner", "phone"}
    for rec in recorded:
        source = "camera" if rec.page.condition == "phone" else "scanner"
        read = engine.read_file(rec.page.path, source=source)[0]
        offline = page_under(engine, rec, engine.config)
        assert (offline.width, offline.height) == (read.width, read.height)
        assert [(ln.text, ln.box) for ln in offline.lines] == [(ln.text, ln.box) for ln in read.lines]


def test_the_table_has_a_row_per_rule_and_counts_the_rereads(recorded: list) -> None:
    out = table(recorded, get_engine())
    rows = {line.split(" | ")[0].lstrip("| "): line for line in out.splitlines() if line.startswith("| ")}
    assert set(rows) >= {label for label, _ in RULES}
    assert rows["no re-read (FastCtc alone)"].endswith("| 0.0 % |")
    assert not rows[RULES[0][0]].endswith("| 0.0 % |")  # the header rule re-reads some header line
    assert "first pages per condition: clean 1, scanner 1, phone 1" in out


def test_a_rule_wider_than_the_recording_is_refused(recorded: list, tmp_path: Path) -> None:
    engine = get_engine()
    narrow = engine.config.model_copy(update=dict(RULES[-1][1]))  # FastCtc alone: nothing re-read
    pages = [rec.page for rec in recorded if rec.page.condition == "clean"]
    thin = record(engine, pages, narrow)
    with pytest.raises(ValueError, match="widest rule"):
        page_under(engine, thin[0], engine.config)


def test_the_cli_refuses_a_page_count_below_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--pages", "0"])
    assert exc.value.code == 2 and "--pages must be at least 1" in capsys.readouterr().err
