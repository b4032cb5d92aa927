"""Capture conditions applied to a clean rendered page: scanner and phone-camera artefacts.

Ground-truth boxes follow every geometric transform (the axis-aligned hull of the moved corners).
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from service.synth.model import Condition, TruthLine

_Array = np.ndarray


def _move_boxes(lines: list[TruthLine], matrix: _Array, size: tuple[int, int]) -> list[TruthLine]:
    """Apply a 2×3 affine or 3×3 homography to each box; keep the axis-aligned hull, clipped."""
    w, h = size
    out = []
    for ln in lines:
        x0, y0, x1, y1 = ln.box
        pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64).reshape(-1, 1, 2)
        m = matrix if matrix.shape == (3, 3) else np.vstack([matrix, [0.0, 0.0, 1.0]])
        moved = cv2.perspectiveTransform(pts, m).reshape(-1, 2)
        bx = (max(0, int(np.floor(moved[:, 0].min()))), max(0, int(np.floor(moved[:, 1].min()))),
              min(w, int(np.ceil(moved[:, 0].max()))), min(h, int(np.ceil(moved[:, 1].max()))))
        out.append(TruthLine(ln.text, bx, ln.role))
    return out


def _jpeg(arr: _Array, quality: int) -> _Array:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _scanner(arr: _Array, lines: list[TruthLine], rng: np.random.Generator, dpi: int
             ) -> tuple[_Array, list[TruthLine]]:
    h, w = arr.shape[:2]
    angle = float(rng.uniform(-2.0, 2.0))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    out = cv2.warpAffine(arr, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    gray = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(np.float32)
    # toner: ink a little lighter or darker overall with grain, sparse specks and a faint streak
    ink = gray < 160
    gray[ink] += rng.uniform(-15, 25) + rng.normal(0, 12, size=int(ink.sum()))
    specks = rng.random((h, w)) < 0.0004
    gray[specks] = rng.uniform(40, 140)
    sx = int(rng.integers(0, w))
    gray[:, sx:sx + max(1, dpi // 150)] *= 0.93
    gray += rng.normal(0, 6.0, size=gray.shape)
    blurred = cv2.GaussianBlur(np.clip(gray, 0, 255).astype(np.uint8), (3, 3), 0.6)
    rgb = np.ascontiguousarray(np.stack([blurred] * 3, axis=-1))
    return _jpeg(rgb, int(rng.integers(60, 86))), _move_boxes(lines, m, (w, h))


def _phone(arr: _Array, lines: list[TruthLine], rng: np.random.Generator, dpi: int
           ) -> tuple[_Array, list[TruthLine]]:
    h, w = arr.shape[:2]
    pad_x, pad_y = int(w * 0.08), int(h * 0.06)
    cw, ch = w + 2 * pad_x, h + 2 * pad_y
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    jit = lambda s: float(rng.uniform(-s, s))  # noqa: E731
    dst = np.array([
        [pad_x + jit(w * 0.04), pad_y + jit(h * 0.03)], [cw - pad_x + jit(w * 0.04), pad_y + jit(h * 0.03)],
        [cw - pad_x + jit(w * 0.04), ch - pad_y + jit(h * 0.03)], [pad_x + jit(w * 0.04), ch - pad_y + jit(h * 0.03)],
    ], dtype=np.float32)
    hm = cv2.getPerspectiveTransform(src, dst)
    table = np.array([rng.uniform(60, 110), rng.uniform(60, 100), rng.uniform(50, 90)], dtype=np.uint8)
    background = np.empty((ch, cw, 3), dtype=np.uint8)
    background[:] = table
    warped = cv2.warpPerspective(arr, hm, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=(0, 0, 0))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), hm, (cw, ch), flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255.0)[:, :, None]
    img = warped.astype(np.float32) * alpha + background.astype(np.float32) * (1 - alpha)
    # uneven light: a tilted plane plus a soft spot, and a warm colour cast
    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    gx, gy = rng.uniform(-0.25, 0.25, size=2)
    cx, cy = rng.uniform(0.2, 0.8) * cw, rng.uniform(0.2, 0.8) * ch
    spot = np.exp(-(((xx - cx) / (0.6 * cw)) ** 2 + ((yy - cy) / (0.6 * ch)) ** 2))
    light = 0.72 + gx * (xx / cw - 0.5) + gy * (yy / ch - 0.5) + 0.25 * spot
    img = img * np.clip(light, 0.45, 1.1)[:, :, None] * np.array([1.0, 0.97, 0.92], dtype=np.float32)
    sigma = float(rng.uniform(0.7, 1.3)) * dpi / 300
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    img += rng.normal(0, 5.0, size=img.shape[:2])[:, :, None]
    out = np.clip(img, 0, 255).astype(np.uint8)
    return _jpeg(out, int(rng.integers(70, 90))), _move_boxes(lines, hm, (cw, ch))


def degrade(image: Image.Image, lines: list[TruthLine], condition: Condition, seed: int, dpi: int
            ) -> tuple[Image.Image, list[TruthLine]]:
    """Apply ``condition`` ("clean", "scanner", "phone") to a clean page; boxes move with the pixels."""
    if condition == "clean":
        return image, list(lines)
    rng = np.random.default_rng(seed)
    arr = np.asarray(image.convert("RGB"))
    if condition == "scanner":
        out, moved = _scanner(arr, lines, rng, dpi)
    else:
        out, moved = _phone(arr, lines, rng, dpi)
    return Image.fromarray(out, "RGB"), moved
