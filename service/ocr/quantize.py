"""Rebuild the derived int8 models in ``models/``: the recognizer and the detector.

``asternet-int8.onnx`` (``rec-asternet-int8``), two passes over the pinned fp32 AsterNet:

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

``det-ppocrv4-int8.onnx`` (``det-ppocrv4-int8``): the pinned PP-OCRv4 DBNet, opset raised 11 → 13
(per-channel weights need it), static int8 QDQ of every operator, ranges in
``models/det-ppocrv4-int8.calibration.json`` (MinMax over the same tune-slice pages). Its
activations are a quarter of the float ones: peak memory of one 800 px detection 71 MB instead of
278 MB, CPU 0.15 s instead of 0.25 s.

    python -m service.ocr.quantize               # writes both files, checks their hashes
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
DET_SOURCE = "det-ppocrv4"
DET_TARGET = "det-ppocrv4-int8"
DET_CALIBRATION = DEFAULT_MANIFEST.parent / "det-ppocrv4-int8.calibration.json"
DET_OPSET = 13
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


def _static_det(source: Path, out: Path, cache: Path, reader: Any = None) -> None:
    """QDQ int8 of the whole detector (opset raised to 13 first); ranges from/into ``cache``."""
    import onnx
    from onnx import version_converter

    q = _onnx_tools()
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = out.with_name("det-pre.onnx")
    quant_pre_process(str(source), str(pre), skip_symbolic_shape=True)
    onnx.save(version_converter.convert_version(onnx.load(str(pre)), DET_OPSET), str(pre))
    q.quantize_static(str(pre), str(out), reader, calibration_cache_path=str(cache), quant_format=q.QuantFormat.QDQ,
                      per_channel=True, activation_type=q.QuantType.QUInt8, weight_type=q.QuantType.QInt8,
                      calibrate_method=q.CalibrationMethod.MinMax)


def build_detector(manifest: Path = DEFAULT_MANIFEST, calibration: Path = DET_CALIBRATION) -> Path:
    """Quantize the pinned DBNet into the file the manifest names for ``det-ppocrv4-int8``."""
    if not calibration.is_file():
        raise OcrError(f"{calibration} is missing", remedy="restore it from the repository "
                       "(or re-measure: python -m service.ocr.quantize --calibrate)")
    source = resolve(DET_SOURCE, manifest)
    target = manifest.parent / str(load_manifest(manifest)["models"][DET_TARGET]["file"])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / target.name
        _static_det(source.model.path, out, calibration)
        out.replace(target)
    return target


def _tune_pages(folder: Path) -> Iterator[np.ndarray]:
    """Prepared grey pages of the held-out *tune* slice (``CALIBRATION_PAGES`` per condition)."""
    from bench.ocr_pages import heldout_pages  # dev tool: renders pages with the held-out generator
    from service.imaging import prepare
    from service.ocr.images import iter_pages

    for page in heldout_pages(folder, "tune", CALIBRATION_PAGES):
        image = next(iter_pages(page.path, 80_000_000))
        yield prepare(image, "camera" if page.condition == "phone" else "scanner").image


def calibration_tensors(folder: Path, detector: bool = False) -> Iterator[np.ndarray]:
    """Model inputs (as the engine feeds them) of the held-out *tune* pages rendered into
    ``folder``: the pages (``detector``) or every ``CALIBRATION_STEP``-th line on them."""
    from service.ocr.config import OcrConfig
    from service.ocr.detector import Detector
    from service.ocr.layout import crop_box, lay_out
    from service.ocr.recognizer import Recognizer

    cfg = OcrConfig()
    det = Detector(resolve(DET_SOURCE), long_side=cfg.det_long_side)
    rec = Recognizer(resolve(SOURCE), max_width=cfg.rec_max_width, squeeze=cfg.rec_squeeze,
                     short_squeeze=cfg.rec_short_squeeze)
    for gray in _tune_pages(folder):
        if detector:
            yield det.tensor(gray)
            continue
        for i, line in enumerate(lay_out(det.detect(gray), gray)):
            if i % CALIBRATION_STEP == 0:
                x0, y0, x1, y1 = crop_box(line.box, gray.shape[:2])
                crop = gray[y0:y1, x0:x1]
                yield rec.tensor(crop, rec.squeeze_for(crop))


def calibrate(calibration: Path = CALIBRATION, det_calibration: Path = DET_CALIBRATION) -> None:
    """Measure both models' activation ranges on tune-slice pages into the calibration files.

    The float detector finds the lines the recognizer ranges are measured on."""
    q = _onnx_tools()

    class Reader(q.CalibrationDataReader):  # type: ignore[misc,name-defined]
        def __init__(self, name: str, tensors: Iterator[np.ndarray]) -> None:
            self.name, self.tensors = name, tensors

        def get_next(self) -> dict[str, np.ndarray] | None:
            t = next(self.tensors, None)
            return None if t is None else {self.name: t}

    calibration.unlink(missing_ok=True)
    det_calibration.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pages = Path(tmp) / "pages"
        _static_int8(resolve(SOURCE).model.path, Path(tmp) / "static.onnx", calibration,
                     Reader("images", calibration_tensors(pages)))
        _static_det(resolve(DET_SOURCE).model.path, Path(tmp) / "det.onnx", det_calibration,
                    Reader("x", calibration_tensors(pages, detector=True)))
    for path in (calibration, det_calibration):
        path.chmod(0o644)


def main(argv: list[str] | None = None) -> int:
    """Build both int8 models (``--calibrate``: re-measure the ranges first) and check their SHA-256."""
    args = sys.argv[1:] if argv is None else argv
    if "--calibrate" in args:
        calibrate()
        print(f"activation ranges written to {CALIBRATION} and {DET_CALIBRATION}")
    models = load_manifest()["models"]
    status = 0
    for target, name in ((build(), TARGET), (build_detector(), DET_TARGET)):
        digest = sha256_of(target)
        expected = str(models[name]["sha256"])
        print(f"{target}: sha256 {digest}")
        if digest != expected:
            print(f"the manifest expects {expected} for {name}: update models/manifest.json after re-running "
                  "bench/ocr.py", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
