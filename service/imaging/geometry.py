"""Page geometry: skew angle by projection profiles, page outline in a photo, perspective warp."""

from __future__ import annotations

import cv2
import numpy as np

Array = np.ndarray


def row_sums(binary: Array) -> Array:
    """Sum of each row of a uint8 image, as float64 (exact: cv2's integer reduce, ~10x numpy's sum)."""
    return cv2.reduce(binary, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.float64)


def _profile_score(binary: Array, angle: float) -> float:
    h, w = binary.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    rotated = cv2.warpAffine(binary, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    rows = row_sums(rotated)
    return float(np.square(np.diff(rows)).sum())


def skew_angle(gray: Array, max_angle: float = 5.0) -> float:
    """Skew of the text lines in degrees (positive: rotate counter-clockwise by this to fix).

    Projection-profile search on a ~900 px wide copy: text rows give the sharpest row-sum profile
    when they are horizontal. Coarse 0.5° steps, then 0.1° around the best, then 0.02°; an angle
    met again in the next step is not scored twice.
    """
    h, w = gray.shape[:2]
    scale = min(1.0, 900.0 / max(1, w))
    small = cv2.resize(gray, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    _, binary = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if cv2.countNonZero(binary) < 50:
        return 0.0
    scores: dict[float, float] = {}

    def score(angle: float) -> float:
        key = round(angle, 9)  # arange's float noise: 0.5 − 0.5 + 5 × 0.1 is the 0.5 already scored
        if key not in scores:
            scores[key] = _profile_score(binary, angle)
        return scores[key]

    best = 0.0
    for step, span in ((0.5, max_angle), (0.1, 0.5), (0.02, 0.1)):
        candidates = np.arange(best - span, best + span + step / 2, step)
        best = float(max(candidates, key=lambda a: score(float(a))))
    return round(best, 2)


def rotation_matrix(shape: tuple[int, int], angle: float) -> tuple[Array, tuple[int, int]]:
    """3×3 matrix rotating an image of ``shape`` by ``angle``° about its centre, and the output size
    (grown so no corner is cut)."""
    h, w = shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(h * sin + w * cos)), int(np.ceil(h * cos + w * sin))
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return np.vstack([m, [0.0, 0.0, 1.0]]), (nw, nh)


def order_corners(pts: Array) -> Array:
    """Corners as top-left, top-right, bottom-right, bottom-left (float32, shape 4×2)."""
    pts = pts.reshape(4, 2).astype(np.float32)
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], dtype=np.float32)


def find_page(gray: Array, min_fraction: float = 0.25) -> Array | None:
    """The four corners of the sheet of paper in a photo, or None when no page outline is found
    (the photo is then taken to be of the page alone).

    The sheet is the largest bright region; its outline is simplified to a quadrilateral.
    """
    h, w = gray.shape[:2]
    scale = min(1.0, 1000.0 / max(h, w))
    small = cv2.resize(gray, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    blur = cv2.GaussianBlur(small, (0, 0), 3)
    _, bright = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    biggest = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(biggest)
    sh, sw = small.shape[:2]
    if area < min_fraction * sh * sw or area > 0.97 * sh * sw:
        return None
    hull = cv2.convexHull(biggest)
    quad = None
    for eps in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, eps * cv2.arcLength(hull, True), True)
        if len(approx) == 4:
            quad = approx
            break
    if quad is None:
        quad = cv2.boxPoints(cv2.minAreaRect(hull))
    return order_corners(np.asarray(quad, dtype=np.float32) / scale)


def perspective_matrix(corners: Array) -> tuple[Array, tuple[int, int]]:
    """Homography taking the page ``corners`` to an upright rectangle, and that rectangle's size."""
    tl, tr, br, bl = corners
    width = int(round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))))
    height = int(round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))))
    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    return cv2.getPerspectiveTransform(corners.astype(np.float32), dst), (width, height)
