"""What the CPU offers the int8 models: its name and its int8 dot-product instructions.

The same int8 recognizer reads squeezed lines well where the CPU multiplies int8 with dot-product
instructions (x86 VNNI, Arm ``asimddp`` / ``i8mm``) and loses accuracy on squeezed lines where it
does not (models/README.md), so the cascade picks the fallback's input scale from this.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

#: /proc/cpuinfo flags of int8 dot-product instructions (x86 "flags", Arm "Features")
DOT_PRODUCT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "asimddp", "i8mm"})


def parse_cpuinfo(text: str) -> tuple[str, list[str]]:
    """(CPU model name, sorted int8 dot-product flags) from the text of /proc/cpuinfo."""
    lines = text.splitlines()
    model = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith(("model name", "Model"))), "unknown")
    flags = set(next((ln.split(":", 1)[1].split() for ln in lines if ln.startswith(("flags", "Features"))), []))
    return model, sorted(flags & DOT_PRODUCT_FLAGS)


@lru_cache(maxsize=1)
def this_cpu() -> tuple[str, list[str]]:
    """:func:`parse_cpuinfo` of this machine (("unknown", []) where /proc/cpuinfo cannot be read)."""
    try:
        return parse_cpuinfo(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return "unknown", []


def fallback_squeeze(setting: float | Literal["auto"] | None, dot_product: bool) -> float | None:
    """The cascade fallback's horizontal scale for ``ocr.fallback_squeeze``: ``"auto"`` is the
    model's own (``None``) on a CPU with int8 dot products, else unsqueezed (1.0); a number stands."""
    if setting == "auto":
        return None if dot_product else 1.0
    return setting
