"""Scanner and phone degradations of the held-out generator (its own, not service.synth.degrade's).

Ground-truth boxes follow every geometric transform (service.synth.degrade's box mover).
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from service.synth.degrade import _move_boxes
from service.synth.model import TruthLine


def _jpeg(arr: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def scan(arr: np.ndarray, truth: list[TruthLine], rng: np.random.Generator) -> tuple[np.ndarray, list[TruthLine]]:
    """Office scanner: small skew and shift, gamma, toner spread, dust, light noise, JPEG."""
    h, w = arr.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-1.5, 1.5)), 1.0)
    m = np.asarray(m, np.float64)
    m[:, 2] = m[:, 2] + rng.uniform(-20, 20, size=2)
    out = cv2.warpAffine(arr, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=(250, 250, 250))
    g = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    g = np.asarray(g ** float(rng.uniform(0.8, 1.3)), np.float32)
    if rng.random() < 0.5:  # toner spread: ink a little bolder
        g = np.asarray(cv2.erode(g, np.ones((2, 2), np.uint8)), np.float32)
    g = g * 235 + 12
    dust = rng.random((h, w)) < 0.0002
    g[dust] = rng.uniform(30, 120, size=int(dust.sum()))
    g += rng.normal(0, 4.0, size=g.shape)
    g = cv2.GaussianBlur(np.clip(g, 0, 255), (0, 0), float(rng.uniform(0.4, 0.8)))
    rgb = np.ascontiguousarray(np.repeat(np.clip(g, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2))
    return _jpeg(rgb, int(rng.integers(65, 90))), _move_boxes(truth, m, (w, h))


def photo(arr: np.ndarray, truth: list[TruthLine], rng: np.random.Generator) -> tuple[np.ndarray, list[TruthLine]]:
    """Phone photo: the sheet on a desk in perspective, vignetting and shade, defocus, noise, JPEG."""
    h, w = arr.shape[:2]
    mx, my = int(w * 0.1), int(h * 0.07)
    cw, ch = w + 2 * mx, h + 2 * my
    dst = np.array([[mx, my], [cw - mx, my], [cw - mx, ch - my], [mx, ch - my]], np.float32)
    dst += (rng.uniform(-1, 1, size=(4, 2)) * np.array([w * 0.05, h * 0.035])).astype(np.float32)
    hm = cv2.getPerspectiveTransform(np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32), dst)
    desk = np.empty((ch, cw, 3), np.float32)
    desk[:] = rng.uniform(40, 140, size=3)
    sheet = cv2.warpPerspective(arr, hm, (cw, ch), flags=cv2.INTER_AREA).astype(np.float32)
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), hm, (cw, ch))[:, :, None]
    img: np.ndarray = sheet * mask + desk * (1 - mask)
    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    r2 = ((xx - cw / 2) / cw) ** 2 + ((yy - ch / 2) / ch) ** 2
    shade = 1.0 - float(rng.uniform(0.2, 0.45)) * r2 * 2
    side = float(rng.uniform(-0.15, 0.15)) * (xx / cw - 0.5)
    img *= np.clip(shade + side, 0.5, 1.05)[:, :, None]
    img = img * np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.88, 0.97)], np.float32)
    img = np.asarray(cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.8, 1.4))), np.float32)
    img = img + rng.normal(0, 4.0, size=img.shape[:2])[:, :, None]
    out = np.clip(img, 0, 255).astype(np.uint8)
    return _jpeg(out, int(rng.integers(72, 90))), _move_boxes(truth, hm, (cw, ch))
