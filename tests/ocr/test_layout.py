"""Layout rules on hand-made boxes and ink (no models): gutters split, justified lines stay whole."""

from __future__ import annotations

import numpy as np

from service.ocr.detector import Kernel
from service.ocr.layout import LayoutLine, lay_out, reading_order


def _page_with(words: list[tuple[int, int, int, int]], shape: tuple[int, int] = (400, 1200)) -> np.ndarray:
    gray = np.full(shape, 255, np.uint8)
    for x0, y0, x1, y1 in words:
        gray[y0:y1, x0:x1] = 0
    return gray


def test_a_justified_line_with_wide_even_gaps_stays_one_line() -> None:
    words = [(40 + i * 110, 100, 40 + i * 110 + 60, 130) for i in range(10)]  # 50 px gaps, kernel 20 px
    gray = _page_with(words)
    kernels = [Kernel((x0, 105, x1, 125), 0.9) for x0, _, x1, _ in words]
    lines = lay_out(kernels, gray)
    assert len(lines) == 1 and lines[0].box[0] == 40 and lines[0].box[2] == 40 + 9 * 110 + 60


def test_agency_and_motto_merged_by_the_detector_are_split_at_the_gutter() -> None:
    left = [(40 + i * 70, 50, 40 + i * 70 + 55, 80) for i in range(5)]  # word gaps 15 px
    right = [(600 + i * 70, 50, 600 + i * 70 + 55, 80) for i in range(7)]
    gray = _page_with(left + right)
    kernels = [Kernel((40, 55, 600 + 6 * 70 + 55, 75), 0.9)]  # one box across both columns
    lines = lay_out(kernels, gray)
    assert [ln.box[0] for ln in lines] == [40, 600]


def test_diacritics_above_the_kernel_are_inside_the_box() -> None:
    # a tone mark 3 px above the letters; the line above ends 12 px higher still
    gray = _page_with([(100, 200, 400, 230), (150, 191, 160, 197), (100, 150, 400, 179)])
    lines = lay_out([Kernel((100, 205, 400, 225), 0.9)], gray)
    assert lines[0].box[1] == 191


def test_a_line_box_stops_where_the_next_close_line_begins() -> None:
    # tight leading: line one (letters 100-130) has descenders to 139; line two's accents and
    # ascenders start at 141 and its letters at 150 (kernel 155). No blank row is wide enough to
    # stop the growth, so the box must end at the thinnest row between, not at line two's kernel.
    descenders = [(120 + i * 60, 130, 126 + i * 60, 139) for i in range(8)]
    marks = [(140 + i * 60, 141, 146 + i * 60, 149) for i in range(8)]
    gray = _page_with([(100, 100, 600, 130), (100, 150, 600, 180), *descenders, *marks])
    gray[139:141, 100:600:40] = 0  # a few specks join the two bands (no fully blank row)
    kernels = [Kernel((100, 105, 600, 125), 0.9), Kernel((100, 155, 600, 175), 0.9)]
    first, second = sorted(lay_out(kernels, gray), key=lambda ln: ln.box[1])
    assert 136 <= first.box[3] <= 142, first.box  # its descenders kept, line two's marks left out
    assert 139 <= second.box[1] <= 142, second.box  # line two keeps its marks


def test_two_column_rows_are_read_column_by_column() -> None:
    agency1, motto1 = LayoutLine((50, 10, 400, 40), 20), LayoutLine((600, 10, 1100, 40), 20)
    agency2, motto2 = LayoutLine((120, 50, 330, 80), 20), LayoutLine((650, 50, 1050, 80), 20)
    number, date = LayoutLine((100, 100, 350, 130), 20), LayoutLine((640, 100, 1060, 130), 20)
    title = LayoutLine((450, 170, 750, 200), 20)
    body = LayoutLine((60, 220, 1100, 250), 20)
    shuffled = [body, motto2, number, title, agency1, date, motto1, agency2]
    assert reading_order(shuffled) == [agency1, agency2, number, motto1, motto2, date, title, body]


def test_a_ruled_table_row_is_read_cell_by_cell() -> None:
    # "1 | Tên thủ tục | 1.004321 | 20 ngày": cells 30 px apart with a 2 px rule between them; the
    # detector returns one kernel across the whole row, as it does on real tables
    gray = _page_with([(60, 100, 90, 130), (140, 100, 600, 130), (650, 100, 800, 130), (850, 100, 1000, 130)])
    for x in (40, 115, 625, 825, 1020):
        gray[60:300, x:x + 2] = 0  # vertical rules through three rows
    for y in (60, 170, 300):
        gray[y:y + 2, 40:1022] = 0  # horizontal rules
    lines = lay_out([Kernel((60, 105, 1000, 125), 0.9)], gray)
    assert [(ln.box[0], ln.box[2]) for ln in lines] == [(60, 90), (140, 600), (650, 800), (850, 1000)]
    assert all(ln.box[1] == 100 and ln.box[3] == 130 for ln in lines)  # the rules are not grown into


def test_a_detection_on_a_bare_rule_is_dropped() -> None:
    gray = _page_with([(100, 100, 500, 130)])
    gray[200:202, 100:900] = 0  # an underline on its own
    lines = lay_out([Kernel((100, 105, 500, 125), 0.9), Kernel((100, 198, 900, 204), 0.6)], gray)
    assert [ln.box for ln in lines] == [(100, 100, 500, 130)]


def test_red_seal_ink_is_lifted_and_black_text_under_it_kept() -> None:
    from PIL import Image

    from service.ocr.images import without_red_ink

    rgb = np.full((50, 60, 3), 255, np.uint8)
    rgb[10:20, :] = (210, 60, 70)  # seal ink
    rgb[30:40, :] = (20, 20, 20)  # text
    rgb[15:18, 20:30] = (25, 20, 20)  # text crossing the seal
    gray = np.asarray(without_red_ink(Image.fromarray(rgb)))
    assert gray[12, 5] >= 200 and gray[35, 5] < 40 and gray[16, 25] < 40
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    assert np.array_equal(np.asarray(without_red_ink(bgr)), gray)
    plain = np.full((20, 20), 128, np.uint8)
    assert without_red_ink(plain) is plain


def test_rules_are_found_exactly_as_a_full_page_opening_finds_them() -> None:
    # rules inside the page, running off each edge, thicker bars and text-like specks: only the rows
    # and columns that may hold a rule are opened, and that must not change a single rule pixel
    import cv2

    from service.ocr.layout import open_line

    rng = np.random.default_rng(11)
    page = (rng.random((700, 900)) < 0.25).astype(np.uint8)  # specks and short strokes
    page[100:102, 50:850] = 1  # an underline
    page[300:304, 0:95] = 1  # a rule running off the left edge, shorter than the line
    page[500:502, 820:900] = 1  # and off the right edge
    page[0:60, 400:402] = 1  # a vertical rule off the top edge
    page[640:700, 600:603] = 1  # and off the bottom edge
    page[200:600, 120:122] = 1  # a table's vertical rule
    page[600:620, 200:700] = 1  # a thick bar
    for length in (15, 40, 75, 120, 181):
        for axis, shape in ((1, (1, length)), (0, (length, 1))):
            expected = cv2.morphologyEx(page, cv2.MORPH_OPEN, np.ones(shape, np.uint8))
            assert np.array_equal(open_line(page, length, axis), expected), (length, axis)
    blank = np.zeros((50, 60), np.uint8)
    assert not open_line(blank, 40, 1).any() and not open_line(blank, 40, 0).any()
