"""Text-line detector: PP-OCR DBNet on ONNX Runtime, our own pre- and post-processing.

The network returns a per-pixel text probability; each connected region above the threshold is a
shrunk "kernel" of one text line (DBNet is trained on shrunk polygons). We return the kernels as
axis-aligned boxes in page pixels with their mean probability; the layout stage grows them to the
ink (so diacritics are kept), merges, splits and orders them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort

from service.domain.errors import OcrError
from service.ocr.manifest import ModelSpec

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class Kernel:
    """A detected line kernel: box ``(x0, y0, x1, y1)`` in page pixels and mean text probability."""

    box: tuple[int, int, int, int]
    score: float

    @property
    def height(self) -> int:
        """Kernel height in pixels."""
        return self.box[3] - self.box[1]


def make_session(spec: ModelSpec, threads: int) -> ort.InferenceSession:
    """An onnxruntime CPU session for ``spec`` with ``threads`` intra-op threads (OcrError if it fails)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Line crops change width on every call: a memory arena and memory patterns only grow the
    # peak RSS (measured 590 → 500 MB on a 300 dpi page) and bought no speed.
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    try:
        return ort.InferenceSession(str(spec.model.path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise OcrError(f"model {spec.name} cannot be loaded: {exc}",
                       remedy=spec.model.remedy) from exc


class Detector:
    """DBNet line detector; call :meth:`detect` with a grayscale or BGR uint8 page image."""

    def __init__(self, spec: ModelSpec, *, threads: int = 1, long_side: int = 1280, threshold: float = 0.3,
                 box_threshold: float = 0.5) -> None:
        self.spec = spec
        self.session = make_session(spec, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.long_side = long_side
        self.threshold = threshold
        self.box_threshold = box_threshold

    def tensor(self, image: Array) -> Array:
        """The model input for a page: long side ``long_side`` (multiples of 32), ``(x/255 − 0.5)/0.5``."""
        h, w = image.shape[:2]
        ratio = self.long_side / max(h, w)
        ratio = max(ratio, min(1.0, 64 / min(h, w)))  # a long strip (one line) keeps its text readable
        nh, nw = max(32, int(round(h * ratio / 32)) * 32), max(32, int(round(w * ratio / 32)) * 32)
        interp = cv2.INTER_AREA if nh < h else cv2.INTER_LINEAR
        small = cv2.resize(image, (nw, nh), interpolation=interp).astype(np.float32) * (2.0 / 255.0) - 1.0
        if small.ndim == 2:  # a grey page: the same plane in all three input channels
            return np.ascontiguousarray(np.broadcast_to(small, (1, 3, nh, nw)))
        return np.ascontiguousarray(small.transpose(2, 0, 1)[None])

    def probability(self, image: Array) -> tuple[Array, float, float]:
        """Text probability map of ``image`` and the x/y scale factors back to page pixels."""
        h, w = image.shape[:2]
        x = self.tensor(image)
        nh, nw = x.shape[2:]
        try:
            prob = self.session.run(None, {self.input_name: x})[0][0, 0]
        except Exception as exc:
            raise OcrError(f"text detection failed: {exc}", remedy="check the image; report the file if it persists"
                           ) from exc
        return prob, w / nw, h / nh

    def detect(self, image: Array) -> list[Kernel]:
        """Line kernels of a grayscale or BGR page image, in no particular order."""
        prob, sx, sy = self.probability(image)
        mask = cv2.dilate((prob > self.threshold).astype(np.uint8), np.ones((2, 2), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        kernels = []
        for i in range(1, count):
            x0, y0, bw, bh, area = (int(v) for v in stats[i])
            if bh < 2 or bw < 2 or area < 6:
                continue
            region = prob[y0:y0 + bh, x0:x0 + bw]
            inside = region[labels[y0:y0 + bh, x0:x0 + bw] == i]
            # scored on the pixels above the threshold: the dilation's rim would sink a small mark
            # (a page number "2" is one 3-pixel row at 200 dpi) below the box threshold
            score = float(inside[inside > self.threshold].mean())
            if score < self.box_threshold:
                continue
            box = (int(np.floor(x0 * sx)), int(np.floor(y0 * sy)),
                   int(np.ceil((x0 + bw) * sx)), int(np.ceil((y0 + bh) * sy)))
            kernels.append(Kernel(box, score))
        return kernels
