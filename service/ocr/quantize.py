"""Rebuild ``models/asternet-int8.onnx``: AsterNet with an int8 backbone and int8 sequence weights.

Two passes over the pinned fp32 AsterNet:

1. **static int8 (QDQ) of the convolutional backbone**, activations too: Conv, the SiLU's Sigmoid
   and Mul, the residual Add and the squeeze-excitation pooling, so that ONNX Runtime runs the whole
   chain as QLinear* kernels (int8 GEMM with VNNI on x86, SDOT on ARM) without a dequantize /
   quantize pair around every SiLU. Quantizing only the convolutions (tried earlier) was no faster
   for exactly that reason. Activation ranges come from ``models/asternet-int8.calibration.json``
   (MinMax over line crops of the held-out *tune* slice, never the *never* slice), committed, so a
   rebuild needs no pages and gives the same bytes on every machine;
2. **dynamic int8** of the MatMul / Gemm / LSTM weights of the sequence head (as before).

Measured on one x86 core at a 480 px input: 55 ms per call against 90 ms for the previous
(dynamic-only) int8 and 97 ms for fp32; the file is 12 MB instead of 19 MB. Needs the dev-only
``onnx`` package.

    python -m service.ocr.quantize               # writes models/asternet-int8.onnx, checks the hash
    python -m service.ocr.quantize --calibrate   # re-measures the activation ranges (renders pages)
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from service.domain.errors import OcrError
from service.ocr.manifest import DEFAULT_MANIFEST, load_manifest, resolve, sha256_of

SOURCE = "rec-asternet"
TARGET = "rec-asternet-int8"
DYNAMIC_OPS = ["MatMul", "Gemm", "LSTM"]
STATIC_OPS = ("Conv", "Mul", "Sigmoid", "Add", "GlobalAveragePool")
BACKBONE = "/backbone/"  # node-name prefix of the convolutional part (the head stays float + dynamic int8)
CALIBRATION = DEFAULT_MANIFEST.parent / "asternet-int8.calibration.json"
CALIBRATION_PAGES = 2  # tune-slice pages per condition the ranges are measured on
CALIBRATION_STEP = 4  # every 4th line of those pages


def _onnx_tools() -> Any:
    try:
        from onnxruntime import quantization
    except ImportError as exc:  # onnxruntime.quantization imports onnx
        raise OcrError("the onnx package is needed to quantize models",
                       remedy="pip install -r requirements-dev.in (onnx==1.23.2)") from exc
    return quantization


def _static_int8(source: Path, out: Path, cache: Path, reader: Any = None) -> None:
    """QDQ int8 of the backbone of ``source`` into ``out``; ranges from ``cache`` (or measured with
    ``reader`` and written to ``cache``)."""
    import onnx

    q = _onnx_tools()
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = out.with_name("pre.onnx")
    quant_pre_process(str(source), str(pre), skip_symbolic_shape=True)
    nodes = [n.name for n in onnx.load(str(pre)).graph.node if n.name.startswith(BACKBONE) and n.op_type in STATIC_OPS]
    q.quantize_static(str(pre), str(out), reader, calibration_cache_path=str(cache), quant_format=q.QuantFormat.QDQ,
                      op_types_to_quantize=list(STATIC_OPS), nodes_to_quantize=nodes, per_channel=True,
                      activation_type=q.QuantType.QUInt8, weight_type=q.QuantType.QInt8,
                      calibrate_method=q.CalibrationMethod.MinMax)


def build(manifest: Path = DEFAULT_MANIFEST, calibration: Path = CALIBRATION) -> Path:
    """Quantize the pinned AsterNet into the file the manifest names for ``rec-asternet-int8``."""
    q = _onnx_tools()
    if not calibration.is_file():
        raise OcrError(f"{calibration} is missing", remedy="restore it from the repository "
                       "(or re-measure: python -m service.ocr.quantize --calibrate)")
    source = resolve(SOURCE, manifest)
    entry = load_manifest(manifest)["models"][TARGET]
    target = manifest.parent / str(entry["file"])
    with tempfile.TemporaryDirectory() as tmp:
        static = Path(tmp) / "static.onnx"
        _static_int8(source.model.path, static, calibration)
        out = Path(tmp) / target.name
        q.quantize_dynamic(str(static), str(out), weight_type=q.QuantType.QInt8, op_types_to_quantize=DYNAMIC_OPS)
        out.replace(target)
    return target


def calibration_tensors(folder: Path) -> Iterator[np.ndarray]:
    """Recognizer inputs (as the engine feeds them) of every ``CALIBRATION_STEP``-th line of the
    held-out *tune* pages rendered into ``folder``."""
    from bench.ocr_pages import heldout_pages  # dev tool: renders pages with the held-out generator
    from service.imaging import prepare
    from service.ocr.config import OcrConfig
    from service.ocr.detector import Detector
    from service.ocr.images import iter_pages
    from service.ocr.layout import crop_box, lay_out
    from service.ocr.recognizer import Recognizer

    cfg = OcrConfig()
    detector = Detector(resolve(cfg.detector), long_side=cfg.det_long_side)
    rec = Recognizer(resolve(SOURCE), max_width=cfg.rec_max_width, squeeze=cfg.rec_squeeze,
                     short_squeeze=cfg.rec_short_squeeze)
    for page in heldout_pages(folder, "tune", CALIBRATION_PAGES):
        image = next(iter_pages(page.path, cfg.max_pixels))
        gray = prepare(image, "camera" if page.condition == "phone" else "scanner").image
        for i, line in enumerate(lay_out(detector.detect(gray), gray)):
            if i % CALIBRATION_STEP == 0:
                x0, y0, x1, y1 = crop_box(line.box, gray.shape[:2])
                crop = gray[y0:y1, x0:x1]
                yield rec.tensor(crop, rec.squeeze_for(crop))


def calibrate(calibration: Path = CALIBRATION) -> Path:
    """Measure the backbone's activation ranges on tune-slice line crops into ``calibration``."""
    q = _onnx_tools()

    class Reader(q.CalibrationDataReader):  # type: ignore[misc,name-defined]
        def __init__(self, tensors: Iterator[np.ndarray]) -> None:
            self.tensors = tensors

        def get_next(self) -> dict[str, np.ndarray] | None:
            t = next(self.tensors, None)
            return None if t is None else {"images": t}

    calibration.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        _static_int8(resolve(SOURCE).model.path, Path(tmp) / "static.onnx", calibration,
                     Reader(calibration_tensors(Path(tmp) / "pages")))
    return calibration


def main(argv: list[str] | None = None) -> int:
    """Build the int8 model (``--calibrate``: re-measure the ranges first) and check its SHA-256."""
    args = sys.argv[1:] if argv is None else argv
    if "--calibrate" in args:
        print(f"activation ranges written to {calibrate()}")
    target = build()
    digest = sha256_of(target)
    expected = str(load_manifest()["models"][TARGET]["sha256"])
    print(f"{target}: sha256 {digest}")
    if digest != expected:
        print(f"the manifest expects {expected}: update models/manifest.json after re-running bench/ocr.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
