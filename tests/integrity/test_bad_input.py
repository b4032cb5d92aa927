"""Every bad input of the issue gets its exit code and a clear message, and nothing is stored."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from service.cli.main import main
from service.paths import get_paths
from service.store import Store

from .conftest import page_image

Run = Callable[..., tuple[int, str]]


def stored_documents(home: Path) -> int:
    with Store.open(get_paths(home)) as store:
        return len(store.list_documents())


def _idat_offset(png: bytes) -> tuple[int, int]:
    pos = 8
    while True:
        length, ctype = struct.unpack(">I4s", png[pos:pos + 8])
        if ctype == b"IDAT":
            return pos, length
        pos += 12 + length


def flip_idat_byte(png: bytes, *, fix_crc: bool) -> bytes:
    pos, length = _idat_offset(png)
    data = bytearray(png)
    data[pos + 8 + length // 2] ^= 0x5A
    if fix_crc:
        crc = zlib.crc32(bytes(data[pos + 4:pos + 8 + length])) & 0xFFFFFFFF
        data[pos + 8 + length:pos + 12 + length] = struct.pack(">I", crc)
    return bytes(data)


@pytest.mark.parametrize("fix_crc, words", [(False, "fails its CRC check"), (True, "PNG image data is damaged")])
def test_png_with_a_flipped_idat_byte_is_refused(sohoa_home: Path, digitize_cli: Run, fix_crc: bool,
                                                 words: str) -> None:
    code, err = digitize_cli(flip_idat_byte(page_image("PNG"), fix_crc=fix_crc))
    assert code == 3 and words in err and "Traceback" not in err
    assert stored_documents(sohoa_home) == 0


def test_truncated_jpeg_is_refused(sohoa_home: Path, digitize_cli: Run) -> None:
    jpeg = page_image("JPEG")
    code, err = digitize_cli(jpeg[: len(jpeg) * 2 // 3])
    assert code == 3 and "truncated" in err
    assert stored_documents(sohoa_home) == 0


def test_a_decode_that_is_one_flat_dark_tone_is_refused(digitize_cli: Run) -> None:
    img = Image.new("L", (620, 877), 0)
    img.paste(255, (0, 0, 620, 40))
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(300, 300))
    code, err = digitize_cli(buf.getvalue())
    assert code == 3 and "one flat black tone" in err


def test_a_1x1_image_is_a_capture_error_not_a_pdf_error(digitize_cli: Run) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (1, 1), (255, 255, 255)).save(buf, "PNG", dpi=(300, 300))
    code, err = digitize_cli(buf.getvalue())
    assert code == 4 and "1×1 pixels, too small to be a page" in err


def test_a_16_bit_grey_scan_is_stored_as_8_bit_grey_with_its_text(sohoa_home: Path, digitize_cli: Run) -> None:
    grey = np.asarray(Image.open(io.BytesIO(page_image("PNG", mode="L"))), dtype=np.uint16) * 257
    buf = io.BytesIO()
    Image.fromarray(grey.astype(np.uint16)).save(buf, "PNG", dpi=(300, 300))
    assert Image.open(io.BytesIO(buf.getvalue())).mode.startswith("I")
    code, err = digitize_cli(buf.getvalue())
    assert code == 4 and "page is grey, colour is required" in err  # the default rule: a clear refusal
    get_paths(sohoa_home).config.write_text("capture:\n  require_colour: false\n", encoding="utf-8")
    code, err = digitize_cli(buf.getvalue())
    assert code == 0, err
    with Store.open(get_paths(sohoa_home)) as store:
        page = store.list_documents()[0].pages[0]
        stored = Image.open(io.BytesIO(store.files.get(page.sha256)))
        assert stored.mode == "L" and not page.blank
        assert int(np.asarray(stored).min()) < 40  # the dark text survived the conversion


def test_gif_is_accepted_by_digitize_like_by_ocr_and_extract(digitize_cli: Run) -> None:
    code, err = digitize_cli(page_image("GIF", size=(1700, 2400)))  # GIF has no dpi: measured on A4
    assert code == 0, err


def test_the_same_page_file_given_twice_is_refused(sohoa_home: Path, digitize_cli: Run) -> None:
    page = page_image("PNG")
    code, err = digitize_cli(page, page_image("PNG", seed=3), page, names=("a.png", "b.png", "c.png"))
    assert code == 3 and "same image file as" in err and "page given twice" in err
    assert stored_documents(sohoa_home) == 0


@pytest.mark.parametrize("value, words", [
    ("x" * 100_000, "over the 2000-character limit"),
    ("Trích yếu\x07 nội dung", "control character U+0007"),
])
def test_a_bad_summary_is_exit_5_naming_summary(sohoa_home: Path, digitize_cli: Run, value: str, words: str) -> None:
    code, err = digitize_cli(page_image("PNG"), args=("--field", f"summary={value}"))
    assert code == 5 and "summary:" in err and words in err and "PDF/A" not in err
    assert value not in err
    assert stored_documents(sohoa_home) == 0


@pytest.mark.parametrize("bad", ["\x00", "\u202e", "\u200b", "\u2066"])
def test_invisible_and_control_characters_in_a_name_are_refused(digitize_cli: Run, bad: str) -> None:
    code, err = digitize_cli(page_image("PNG"), args=("--field", f"owner_name=Nguyễn{bad}Văn A"))
    assert code == 5 and "owner_name:" in err


def test_names_are_stored_in_nfc(sohoa_home: Path, digitize_cli: Run) -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn A")
    code, err = digitize_cli(page_image("PNG"), args=("--field", f"owner_name={decomposed}"))
    assert code == 0, err
    with Store.open(get_paths(sohoa_home)) as store:
        assert store.list_documents()[0].metadata.get("owner_name").value == "Nguyễn Văn A"  # type: ignore[union-attr]


@pytest.mark.parametrize("payload", ["001099012345|\udcff|x", "\ud800",
                                     "001099012345||Nguyễn\u202eA|01011999|Nam|HN|01012020"])
def test_qr_payload_with_bad_bytes_is_a_clear_error(payload: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["extract", "--qr-text", payload])
    err = capsys.readouterr().err
    assert code == 3 and "chip ID card QR" in err and "Traceback" not in err


def test_an_ocr_value_breaking_the_text_rule_is_left_out_but_a_typed_one_is_refused() -> None:
    from service.domain.errors import ValidationError
    from service.domain.fields import FieldSource, FieldValue
    from service.usecases.digitize import build_metadata

    from .conftest import DOC_TYPE, OWNER

    md = build_metadata(DOC_TYPE, OWNER, {"summary": FieldValue("Trích\u200byếu", FieldSource.OCR, 0.9),
                                          "document_name": FieldValue("Giấy khai sinh", FieldSource.OCR, 0.9)})
    assert md.get("summary") is None and md.get("document_name") is not None
    with pytest.raises(ValidationError) as exc:
        build_metadata(DOC_TYPE, OWNER, {"summary": FieldValue("Trích\u200byếu", FieldSource.MANUAL, 1.0)})
    assert exc.value.field == "summary"
