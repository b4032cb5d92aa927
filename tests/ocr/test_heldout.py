"""The held-out page generator: independent of the project renderer, slices kept apart."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

import pytest

from bench.ocr_pages import DATA, heldout_fields
from service.domain.errors import InputError
from service.synth.fonts import FONT_FILES
from service.synth.heldout import FAMILIES, SLICE_FONTS, font, plan, render_heldout
from service.synth.heldout_text import load_rows, specs_for


@pytest.fixture(scope="module")
def rows() -> list[dict[str, object]]:
    return load_rows(DATA)


def test_slices_share_no_font_no_text_and_no_font_with_the_project_renderer(rows: list[dict[str, object]]) -> None:
    tune, never = set(SLICE_FONTS["tune"]), set(SLICE_FONTS["never"])
    assert not tune & never and tune | never <= set(FAMILIES)
    project_files = {p.name for styles in FONT_FILES.values() for p in styles.values()}
    for family in tune | never:
        assert not {Path(f).name for f in FAMILIES[family][1].values()} & project_files
    by_slice = {s: {r["id"] for r in rows if r["slice"] == s} for s in ("tune", "never")}
    assert len(by_slice["tune"]) == len(by_slice["never"]) == 40 and not by_slice["tune"] & by_slice["never"]
    # the project renderer and its benchmarks read only the first rows of the corpus
    assert min(int(r["row"]) for r in rows) >= 150  # type: ignore[call-overload]


def test_every_slice_font_has_full_vietnamese_coverage() -> None:
    from fontTools.ttLib import TTFont

    from service.synth.fonts import VIETNAMESE_LETTERS

    for family, (_, styles) in FAMILIES.items():
        for style in styles:
            path = font(family, style, 12).path
            cmap = TTFont(path, lazy=True).getBestCmap()
            assert not [c for c in VIETNAMESE_LETTERS + "0123456789.,;:()/-%" if ord(c) not in cmap], (family, style)


def test_page_has_header_table_and_stamp_and_is_deterministic(rows: list[dict[str, object]]) -> None:
    spec = specs_for(rows, "never", 1)[0]
    hp = plan("never", 1, [spec])[0]
    page = render_heldout(spec, family=hp.family, body_pt=hp.body_pt, condition="clean", seed=hp.seed)
    assert page.image.size == (2480, 3508)  # A4 at 300 dpi
    texts = [ln.text for ln in page.lines]
    assert f"Số: {spec.number_symbol}" in texts and spec.date_line in texts
    assert [ln.text for ln in page.lines if ln.role == "agency"] == list(spec.agency_lines)
    assert "STT" in texts and "Thời hạn" in texts  # the table's header cells, one truth line each
    assert all(unicodedata.is_normalized("NFC", t) for t in texts)
    red = page.image.convert("RGB").getchannel("R").tobytes() != page.image.convert("RGB").getchannel("G").tobytes()
    assert red  # the stamp is the only coloured ink
    again = render_heldout(spec, family=hp.family, body_pt=hp.body_pt, condition="clean", seed=hp.seed)
    assert hashlib.sha256(again.image.tobytes()).digest() == hashlib.sha256(page.image.tobytes()).digest()
    fields = heldout_fields(spec)
    assert fields["issuing_agency"] == " ".join(spec.agency_lines) and fields["issue_date"] == spec.issue_date


def test_bad_arguments_are_refused(rows: list[dict[str, object]], tmp_path: Path) -> None:
    spec = specs_for(rows, "tune", 1)[0]
    with pytest.raises(InputError):
        render_heldout(spec, family="tinos", body_pt=12, condition="fax", seed=0)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        render_heldout(spec, family="tinos", body_pt=30, condition="clean", seed=0)
    with pytest.raises(InputError):
        font("comic", "regular", 12)
    bad = tmp_path / "rows.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError):
        load_rows(bad)
    with pytest.raises(InputError):
        load_rows(tmp_path / "missing.jsonl")


def test_recognizer_training_data_never_touches_the_never_slice(rows: list[dict[str, object]]) -> None:
    import random

    from service.ocr.train.lines import corpus_text, font_files, make_sample, vocabulary

    never_fonts = {Path(f).name for fam in SLICE_FONTS["never"] for f in FAMILIES[fam][1].values()}
    assert font_files() and not {f.name for f in font_files()} & never_fonts
    extra = font_files(extra=True)
    assert len(extra) > len(font_files()) and not {f.name for f in extra} & never_fonts
    assert not {f.name for f in extra} & {"FreeMono.ttf", "DejaVuSansCondensed.ttf", "NotoSansDisplay-Regular.ttf"}
    never_text = {str(p) for r in rows if r["slice"] == "never" for p in r["paragraphs"]}  # type: ignore[attr-defined]
    sentences = corpus_text()
    assert sentences and not set(sentences) & never_text
    x, text = make_sample(random.Random(1), sentences, font_files())
    assert x.shape[0] == 32 and 0.0 <= float(x.min()) and float(x.max()) <= 1.0 and text
    assert set(text) <= set(vocabulary(sentences))
