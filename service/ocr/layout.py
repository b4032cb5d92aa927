"""Layout stage: from detector kernels to ordered line boxes ready for the recognizer.

What it fixes (measured as the gap between ~0.6 % line CER and ~4 % page CER off the shelf):
- kernels grown to the real ink, upwards far enough that stacked diacritics (Ể, Ỗ) are kept;
- pieces of one line (wide justified word gaps) merged, one box spanning two columns (agency
  block and national motto) split at the blank gutter, overlapping duplicates removed;
- short lines (page numbers, single words) kept;
- ruled tables read cell by cell: long vertical and horizontal ink runs (table grid, underlines)
  are taken out of the ink before growing and splitting, and a vertical rule always splits a row;
- reading order with two-column regions (header: agency + "Số" left, motto + place/date right;
  signature block: recipients left, signer right) read column by column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from service.ocr.detector import Kernel

Array = np.ndarray
Box = tuple[int, int, int, int]

SPLIT_GAP = 1.6  # × kernel height: a gutter must be at least this wide (and unlike the other gaps)
DIACRITIC_GAP = 0.2  # × kernel height: blank rows tolerated between a letter and its mark
V_RULE = 2.5  # × median kernel height: an unbroken vertical ink run this long is a rule, never a glyph
H_RULE = 6.0  # × median kernel height: likewise for horizontal runs (table grid, underlines, "-----")
_BLOCK = 8  # rule search: pixels per block when looking for rows/columns that may hold a rule
_ALL_INK = np.frombuffer(bytes([1] * _BLOCK), np.uint64)[0]


@dataclass(frozen=True, slots=True)
class LayoutLine:
    """One line to recognize: ``box`` is the ink box, ``kh`` the detector kernel height."""

    box: Box
    kh: int


def ink_threshold(gray: Array) -> float:
    """Grey level below which a pixel is ink: Otsu's, or the mid-level for a bilevel image."""
    lo, hi = float(gray.min()), float(gray.max())
    thr, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if not lo < float(thr) <= hi - 1:  # two grey levels only (a bilevel scan): Otsu lands on one
        thr = (lo + hi) / 2
    return min(float(thr), 200.0)


def ink_mask(gray: Array) -> Array:
    """Boolean ink mask of a grayscale page (Otsu threshold, never above paper level)."""
    thr = ink_threshold(gray)
    if gray.dtype.kind == "u":  # x < t ⇔ x < ⌈t⌉ for whole x; an integer comparison is ~6× cheaper than a float one
        return np.asarray(gray < math.ceil(thr))
    return np.asarray(gray < thr)


def _thin(mask: Array, axis: int, limit: int) -> tuple[Array, list[Box]]:
    """Components of ``mask`` at most ``limit`` px thick across ``axis`` (0: vertical rules, 1: horizontal).

    Contours, not a label image: a full-page int32 label map would cost 35 MB at 300 dpi.
    """
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    keep = np.zeros_like(mask)
    boxes = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if (w if axis == 0 else h) <= limit:
            cv2.drawContours(keep, [contour], -1, 1, thickness=cv2.FILLED)
            boxes.append((x, y, x + w, y + h))
    return keep, boxes


def _may_hold_run(img: Array, length: int, axis: int) -> Array:
    """Per row (``axis`` 1) or column (``axis`` 0) of a 0/1 image: False where no ink run is long
    enough to survive OpenCV's opening by a ``length`` px line along ``axis`` (True may be wrong)."""
    n = img.shape[axis]
    full = (length - _BLOCK + 1) // _BLOCK  # whole 8 px blocks inside any run of ``length`` px
    if full < 1 or n < _BLOCK:
        return np.ones(img.shape[1 - axis], bool)
    anchor = length // 2  # OpenCV's erosion window: [x − anchor, x − anchor + length − 1], 1 outside the image
    head, tail = min(length - anchor, n), min(anchor + 1, n)  # runs from an edge need only this much
    ends = (img[:, :head], img[:, n - tail:]) if axis == 1 else (img[:head], img[n - tail:])
    maybe = ends[0].all(axis=axis) | ends[1].all(axis=axis)  # (numpy: cv2.reduce per row is ~30× slower)
    cut = n // _BLOCK * _BLOCK
    if axis == 1:  # 8 pixels of a row as one 64-bit word: all ink when every byte is 1
        solid = (img[:, :cut].view(np.uint64) == _ALL_INK).view(np.uint8)
    else:
        solid = img[:cut:_BLOCK]
        for i in range(1, _BLOCK):
            solid = cv2.min(solid, img[i:cut:_BLOCK])
    runs = cv2.erode(np.ascontiguousarray(solid), np.ones((1, full) if axis == 1 else (full, 1), np.uint8))
    return np.asarray(maybe | runs.any(axis=axis))


def _open_rows(rows: Array, length: int) -> Array:
    """OpenCV's opening of each row of a 0/1 array by a ``length`` px horizontal line, by window
    counts: erosion keeps x when its window [x − anchor, x − anchor + length) holds no blank pixel
    inside the image, dilation (same window) keeps x when its window holds a kept pixel."""
    n = rows.shape[1]
    x = np.arange(n)
    lo, hi = np.clip(x - length // 2, 0, n), np.clip(x - length // 2 + length, 0, n)
    blanks = np.zeros((rows.shape[0], n + 1), np.int32)
    np.cumsum(rows == 0, axis=1, out=blanks[:, 1:])
    kept = np.zeros_like(blanks)
    np.cumsum(blanks[:, hi] == blanks[:, lo], axis=1, out=kept[:, 1:])
    return (kept[:, hi] > kept[:, lo]).view(np.uint8)


def open_line(img: Array, length: int, axis: int) -> Array:
    """``cv2.morphologyEx(img, MORPH_OPEN, line)`` for a 0/1 uint8 image and a ``length`` px line
    along ``axis`` (1: horizontal, 0: vertical), identical pixel for pixel.

    Rows (columns) are independent under a line opening, so only those that may hold a run long
    enough are opened: on a text page that is a few rules' worth instead of the whole page
    (the full-page opening cost ~35 ms at 300 dpi, most of the layout stage).
    """
    img = np.ascontiguousarray(img)
    lines = np.flatnonzero(_may_hold_run(img, length, axis))
    if len(lines) > img.shape[1 - axis] // 8:  # a dark or ruled-all-over page: OpenCV's own is cheaper
        return np.asarray(cv2.morphologyEx(img, cv2.MORPH_OPEN, np.ones((1, length) if axis == 1 else (length, 1),
                                                                         np.uint8)))
    out = np.zeros_like(img)
    if axis == 1:
        out[lines] = _open_rows(img[lines], length)
    else:
        out[:, lines] = _open_rows(img[:, lines].T, length).T
    return out


def find_rules(ink: Array, kh: int) -> tuple[Array, list[Box]]:
    """Rule pixels (table grid, underlines: long and thin ink runs), slightly widened, and the
    vertical rules' boxes. Thick blocks (fills, bars) are not rules."""
    img = ink.astype(np.uint8)
    limit = max(3, int(0.3 * kh))
    vert, boxes = _thin(open_line(img, max(15, int(V_RULE * kh)), 0), 0, limit)
    horiz, _ = _thin(open_line(img, max(40, int(H_RULE * kh)), 1), 1, limit)
    rules = cv2.dilate(vert | horiz, np.ones((3, 3), np.uint8)).astype(bool)
    return rules, boxes


def _own_rows(band: Array, k0: int, k1: int, above: bool, below: bool) -> Array:
    """Ink per row of ``band`` (a kernel's rows ``k0:k1`` with the space around them) that belongs
    to this line: where a line lies close above (``above``) or below, ink reaching into that
    line's side of the band is left out, and each loose mark goes to the nearer line."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(band.astype(np.uint8), connectivity=8)
    keep = np.ones(count, dtype=bool)
    keep[0] = False
    h = band.shape[0]
    for i in range(1, count):
        top, height = int(stats[i, cv2.CC_STAT_TOP]), int(stats[i, cv2.CC_STAT_HEIGHT])
        bottom = top + height
        if bottom > k0 and top < k1:
            continue  # part of this line's letters
        if top < k0:  # wholly above the kernel: a mark of ours or the line above's descender
            keep[i] = not above or (top > 0 and k0 - bottom <= top)
        else:  # wholly below: a mark or descender of ours, or the line below's ascender or mark
            keep[i] = not below or (bottom < h and top - k1 <= h - bottom)
    return np.asarray(keep[labels].sum(axis=1))


def _grow(kernel: Kernel, ink: Array, ceiling: int, floor: int, reach: int = 0) -> Box:
    """Grow a kernel box to its ink: sideways by half a height, up/down across diacritic gaps;
    ``reach``: the least height to search by (a small mark's kernel is a sliver of its glyph)."""
    h_img, w_img = ink.shape
    x0, y0, x1, y1 = kernel.box
    kh = max(2, y1 - y0, reach)
    gx0, gx1 = max(0, x0 - kh // 2), min(w_img, x1 + kh // 2)
    tol = max(2, int(DIACRITIC_GAP * kh))
    top, bottom = max(ceiling, y0 - int(1.1 * kh)), min(floor, y1 + int(0.8 * kh))
    above, below = 0 < ceiling and y0 - ceiling < 2 * kh, floor < h_img and floor - y1 < 2 * kh  # close lines
    if above or below:
        rows = _own_rows(ink[top:bottom, gx0:gx1], y0 - top, y1 - top, above, below) >= 2
    else:
        rows = ink[top:bottom, gx0:gx1].sum(axis=1) >= 2
    k0, k1 = y0 - top, y1 - top
    up, blank = k0, 0
    for r in range(k0 - 1, -1, -1):
        if rows[r]:
            up, blank = r, 0
        else:
            blank += 1
            if blank > tol:
                break
    down, blank = k1, 0
    for r in range(k1, len(rows)):
        if rows[r]:
            down, blank = r + 1, 0
        else:
            blank += 1
            if blank > tol:
                break
    ny0, ny1 = top + up, top + max(down, k1)
    cols = np.flatnonzero(ink[ny0:ny1, gx0:gx1].any(axis=0))
    if len(cols):
        gx0, gx1 = gx0 + int(cols[0]), gx0 + int(cols[-1]) + 1
    return (gx0, min(ny0, y0), gx1, max(ny1, y1))


def _v_overlap(a: Box, b: Box) -> float:
    return max(0, min(a[3], b[3]) - max(a[1], b[1])) / max(1, min(a[3] - a[1], b[3] - b[1]))


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _area(b: Box) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _dedupe(lines: list[LayoutLine]) -> list[LayoutLine]:
    """Fold boxes that overlap by half of the smaller one into their union (duplicate detections)."""
    out: list[LayoutLine] = []
    for ln in sorted(lines, key=lambda ln: -_area(ln.box)):
        for i, other in enumerate(out):
            a, b = other.box, ln.box
            inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
            if inter >= 0.5 * min(_area(a), _area(b)):
                out[i] = LayoutLine(_union(a, b), max(other.kh, ln.kh))
                break
        else:
            out.append(ln)
    return out


def _blank_runs(cols: Array, min_len: int) -> list[tuple[int, int]]:
    """(start, end) of runs of False in ``cols`` at least ``min_len`` long, between ink columns."""
    idx = np.flatnonzero(cols)
    if len(idx) < 2:
        return []
    gaps = np.diff(idx)
    where = np.flatnonzero(gaps > min_len)
    return [(int(idx[i]) + 1, int(idx[i + 1])) for i in where]


def _segment_row(row: list[LayoutLine], ink: Array, v_rules: Sequence[Box] = ()) -> list[LayoutLine]:
    """Split one row of boxes into lines at gutters: blank gaps much wider than its word gaps.

    A justified line has evenly widened word gaps and stays whole; the gap between the agency
    block and the national motto, or between "Số: …" and the date line, is several times wider
    than the word gaps on either side and splits the row.
    """
    x0, x1 = min(b.box[0] for b in row), max(b.box[2] for b in row)
    kh = int(np.median([b.kh for b in row]))
    cols = np.zeros(x1 - x0, dtype=bool)
    for b in row:
        cols[b.box[0] - x0:b.box[2] - x0] |= ink[b.box[1]:b.box[3], b.box[0]:b.box[2]].any(axis=0)
    runs = _blank_runs(cols, max(2, int(0.25 * kh)))  # word gaps and wider, not letter gaps
    widths = [e - s for s, e in runs]
    y0, y1 = min(b.box[1] for b in row), max(b.box[3] for b in row)
    walls = [(r[0] + r[2]) // 2 - x0 for r in v_rules if r[1] <= (y0 + y1) // 2 <= r[3]]
    cuts = []
    for i, ((s, e), w) in enumerate(zip(runs, widths, strict=True)):
        # a gutter is one of at most two outsized gaps; a justified line has many alike
        comparable = sum(1 for j, o in enumerate(widths) if j != i and o >= 0.4 * w)
        if (w >= SPLIT_GAP * kh and comparable <= 1) or any(s - 2 <= x <= e + 2 for x in walls):
            cuts.append((s + x0, e + x0))
    if not cuts:
        return [LayoutLine(_union_all(row), kh)]
    bounds = [x0] + [c for cut in cuts for c in cut] + [x1]
    out = []
    for sx0, sx1 in zip(bounds[::2], bounds[1::2], strict=True):
        members = [b for b in row if b.box[0] < sx1 and b.box[2] > sx0]
        if not members:
            continue
        y0, y1 = min(b.box[1] for b in members), max(b.box[3] for b in members)
        seg = np.flatnonzero(cols[sx0 - x0:sx1 - x0])
        if len(seg):
            out.append(LayoutLine((sx0 + int(seg[0]), y0, sx0 + int(seg[-1]) + 1, y1), kh))
    return out or [LayoutLine(_union_all(row), kh)]


def _union_all(row: list[LayoutLine]) -> Box:
    return (min(b.box[0] for b in row), min(b.box[1] for b in row),
            max(b.box[2] for b in row), max(b.box[3] for b in row))


def _row_groups(lines: list[LayoutLine]) -> list[list[LayoutLine]]:
    """Boxes grouped into rows: each joins the row whose core band it overlaps by half."""
    rows: list[list[LayoutLine]] = []
    for ln in sorted(lines, key=lambda ln: (ln.box[1] + ln.box[3]) / 2):
        for row in reversed(rows[-3:]):
            core = (0, int(np.median([b.box[1] for b in row])), 0, int(np.median([b.box[3] for b in row])))
            if _v_overlap(core, ln.box) >= 0.5:
                row.append(ln)
                break
        else:
            rows.append([ln])
    return rows


def _rows(lines: list[LayoutLine]) -> list[list[LayoutLine]]:
    rows: list[list[LayoutLine]] = []
    for ln in sorted(lines, key=lambda ln: (ln.box[1] + ln.box[3]) / 2):
        if rows:
            span = (0, min(b.box[1] for b in rows[-1]), 0, max(b.box[3] for b in rows[-1]))
            if _v_overlap(span, ln.box) >= 0.4:
                rows[-1].append(ln)
                continue
        rows.append([ln])
    return [sorted(r, key=lambda ln: ln.box[0]) for r in rows]


def reading_order(lines: list[LayoutLine]) -> list[LayoutLine]:
    """Rows top to bottom; runs of rows split by a common gutter are read column by column."""
    rows = _rows(lines)
    gutters: list[tuple[int, int] | None] = []
    for row in rows:
        best = None
        for a, b in zip(row, row[1:], strict=False):
            if b.box[0] - a.box[2] > 0 and (best is None or b.box[0] - a.box[2] > best[1] - best[0]):
                best = (a.box[2], b.box[0])
        gutters.append(best if len(row) >= 2 else None)

    def fits(row: list[LayoutLine], g: tuple[int, int]) -> bool:
        return all(ln.box[2] <= g[1] or ln.box[0] >= g[0] for ln in row)

    out: list[LayoutLine] = []
    i = 0
    while i < len(rows):
        g = gutters[i]
        if g is None:
            out.extend(rows[i])
            i += 1
            continue
        j = i + 1
        lo, hi = g
        while j < len(rows) and fits(rows[j], (lo, hi)):
            if gutters[j] is not None:
                gj = gutters[j]
                assert gj is not None
                lo, hi = max(lo, gj[0]), min(hi, gj[1])
                if lo >= hi:
                    break
            j += 1
        region = [ln for r in rows[i:j] for ln in r]
        mid = (lo + hi) / 2
        left = [ln for ln in region if (ln.box[0] + ln.box[2]) / 2 < mid]
        right = [ln for ln in region if (ln.box[0] + ln.box[2]) / 2 >= mid]
        out.extend(sorted(left, key=lambda ln: ln.box[1]))
        out.extend(sorted(right, key=lambda ln: ln.box[1]))
        i = j
    return out


def lay_out(kernels: list[Kernel], gray: Array) -> list[LayoutLine]:
    """Ordered line boxes on ``gray`` (the page the kernels were detected on)."""
    if not kernels:
        return []
    ink = ink_mask(gray)
    h = gray.shape[0]
    kh = int(np.median([k.height for k in kernels]))
    rules, v_rules = find_rules(ink, kh)
    ink &= ~rules
    kernels = sorted(kernels, key=lambda k: k.box[1])
    grown: list[LayoutLine] = []
    for k in kernels:
        ceiling, floor = 0, h
        for other in kernels:  # never grow into another line's kernel above or below
            if other is k or min(other.box[2], k.box[2]) <= max(other.box[0], k.box[0]):
                continue
            if other.box[3] <= k.box[1]:
                ceiling = max(ceiling, other.box[3])
            elif other.box[1] >= k.box[3]:
                floor = min(floor, other.box[1])
        box = _grow(k, ink, ceiling, floor, reach=kh if k.height < kh // 2 else 0)
        if int(ink[box[1]:box[3], box[0]:box[2]].sum()) < 0.04 * k.height ** 2:
            continue  # a detection on a rule or a speck: nothing left to read
        grown.append(LayoutLine(box, max(2, k.height)))
    lines = [piece for row in _row_groups(_dedupe(grown)) for piece in _segment_row(row, ink, v_rules)]
    return reading_order(lines)


def crop_box(box: Box, shape: tuple[int, int], pad_y: float = 0.02, pad_x: float = 0.1) -> Box:
    """The recognizer's crop around an ink box: padded by fractions of its height, clipped to the page.

    AsterNet reads best when the ink fills the 32 px height (measured line CER 0.9 % at 2 % padding,
    1.9 % at 12 %, 8.9 % at 25 %), so the crop hugs the ink box, which already holds the diacritics.
    """
    x0, y0, x1, y1 = box
    hh = max(1, y1 - y0)
    py, px = int(round(pad_y * hh)), int(round(pad_x * hh))
    return (max(0, x0 - px), max(0, y0 - py), min(shape[1], x1 + px), min(shape[0], y1 + py))
