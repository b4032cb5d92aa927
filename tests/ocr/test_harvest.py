"""Harvested training crops: labelled with the printed truth, only where AsterNet read it closely."""

from __future__ import annotations

import pickle
from pathlib import Path

from service.ocr.train.harvest import harvest, label_for, main

TRUTHS = ["Số: 1403/QĐ-SNV", "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.", "ỦY BAN NHÂN DÂN"]


def test_a_close_reading_is_labelled_with_the_truth_not_with_the_reading() -> None:
    assert label_for("Điều 2, Quyết định này có hiệu lực kể tù ngày ký.", TRUTHS) == TRUTHS[1]
    assert label_for("Số: 1403/QĐ-SNV", TRUTHS) == TRUTHS[0]


def test_a_misread_merged_or_partial_line_is_not_kept() -> None:
    assert label_for("Điều 2. Quyết định", TRUTHS) is None  # half a line
    assert label_for("ỦY BAN NHÂN DÂN Số: 1403/QĐ-SNV", TRUTHS) is None  # two lines merged
    assert label_for("Sớ: 7703/QB-5NY", TRUTHS) is None  # too many errors to trust the crop
    assert label_for("", TRUTHS) is None


def test_the_benchmark_pages_and_the_never_slice_are_refused(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path / "x.pkl"), "--first", "3"]) == 2
    assert not (tmp_path / "x.pkl").exists()


def test_one_tune_page_gives_engine_crops_with_truth_labels(tmp_path: Path) -> None:
    crops = harvest(100, 1)
    assert len(crops) > 15
    for gray, text, condition in crops:
        assert gray.shape[0] == 32 and gray.dtype.name == "uint8" and text and condition == "scanner"
    out = tmp_path / "crops.pkl"
    assert main(["--out", str(out), "--first", "100", "--pages", "1"]) == 0
    with out.open("rb") as fh:
        assert [t for _, t, _ in pickle.load(fh)] == [t for _, t, _ in crops]
