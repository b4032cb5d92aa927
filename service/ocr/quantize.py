"""Rebuild ``models/asternet-int8.onnx``: AsterNet with int8 weights in its MatMul/Gemm/LSTM layers.

Dynamic quantization (weights int8 per tensor, activations quantized on the fly) is deterministic:
the same asterocr and onnxruntime versions give the same bytes, whose SHA-256 the manifest pins.
The convolutions stay float32 (static int8 convolutions measured no faster here, because every
SiLU between them needs a dequantize/quantize pair). Needs the dev-only ``onnx`` package.

    python -m service.ocr.quantize           # writes models/asternet-int8.onnx, checks the hash
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from service.domain.errors import OcrError
from service.ocr.manifest import DEFAULT_MANIFEST, load_manifest, resolve, sha256_of

SOURCE = "rec-asternet"
TARGET = "rec-asternet-int8"
OP_TYPES = ["MatMul", "Gemm", "LSTM"]


def build(manifest: Path = DEFAULT_MANIFEST) -> Path:
    """Quantize the pinned AsterNet into the file the manifest names for ``rec-asternet-int8``."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:  # onnxruntime.quantization imports onnx
        raise OcrError("the onnx package is needed to quantize models",
                       remedy="pip install -r requirements-dev.in (onnx==1.23.2)") from exc
    source = resolve(SOURCE, manifest)
    entry = load_manifest(manifest)["models"][TARGET]
    target = manifest.parent / str(entry["file"])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / target.name
        quantize_dynamic(str(source.model.path), str(out), weight_type=QuantType.QInt8, op_types_to_quantize=OP_TYPES)
        out.replace(target)
    return target


def main() -> int:
    """Build the int8 model and report whether its SHA-256 matches the manifest."""
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
