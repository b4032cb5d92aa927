from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.ocr.config import OcrConfig
from service.ocr.cpu import fallback_squeeze, parse_cpuinfo

X86 = "processor\t: 0\nmodel name\t: AMD EPYC 9B14\nflags\t\t: fpu sse2 avx2 avx512_vnni avx512bw\n"
PI4 = "processor\t: 0\nFeatures\t: fp asimd evtstrm crc32 cpuid\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"
PI5 = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid " \
      "asimdrdm lrcpc dcpop asimddp\nModel\t\t: Raspberry Pi 5 Model B Rev 1.0\n"


@pytest.mark.parametrize("text,model,dot", [
    (X86, "AMD EPYC 9B14", ["avx512_vnni"]),
    (PI4, "Raspberry Pi 4 Model B Rev 1.4", []),
    (PI5, "Raspberry Pi 5 Model B Rev 1.0", ["asimddp"]),
    ("", "unknown", []),
])
def test_cpuinfo_names_the_int8_dot_product_instructions(text: str, model: str, dot: list[str]) -> None:
    assert parse_cpuinfo(text) == (model, dot)


def test_auto_fallback_squeezes_only_where_the_cpu_has_int8_dot_products() -> None:
    assert fallback_squeeze("auto", dot_product=True) is None  # the model's own squeeze
    assert fallback_squeeze("auto", dot_product=False) == 1.0  # unsqueezed: squeezed int8 loses accuracy there
    assert fallback_squeeze(0.8, dot_product=False) == 0.8
    assert fallback_squeeze(None, dot_product=False) is None


def test_fallback_squeeze_setting_is_checked() -> None:
    assert OcrConfig().fallback_squeeze == "auto"
    assert OcrConfig(fallback_squeeze=1.0).fallback_squeeze == 1.0
    for bad in (2.0, "fast"):
        with pytest.raises(ValidationError):
            OcrConfig(fallback_squeeze=bad)
