from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
import segno
from PIL import Image

from service.domain.errors import ExitCode, InputError
from service.domain.fields import FieldSource
from service.extract.extractor import extract_pages
from service.extract.qr import decode_qr_image, merge_qr, parse_cccd_qr, qr_extraction, read_cccd_qr_image
from tests.extract.pages import residence_certificate

TODAY = date(2026, 1, 1)
VALID = "001099000001|012345678|Nguyễn Văn An|15031999|Nam|Số 1 phố Huế, Hà Nội|09082022"


def qr_png(payload: str | bytes, scale: int = 6) -> bytes:
    buf = io.BytesIO()
    segno.make(payload, error="m").save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def camera_photo(payload: str) -> bytes:
    """The QR pasted onto a larger grey 'card photo', slightly rotated, as JPEG."""
    qr = Image.open(io.BytesIO(qr_png(payload, scale=5))).convert("RGB")
    canvas = Image.new("RGB", (900, 600), (205, 210, 200))
    canvas.paste(qr, (520, 60))
    buf = io.BytesIO()
    canvas.rotate(4, fillcolor=(205, 210, 200), expand=False).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def test_valid_payload_from_serial_reader() -> None:
    card = parse_cccd_qr(VALID + "\r\n", today=TODAY)
    assert card.personal_id == "001099000001" and card.old_id == "012345678"
    assert card.full_name == "Nguyễn Văn An" and card.gender == "Nam"
    assert card.birth_date == date(1999, 3, 15) and card.issue_date == date(2022, 8, 9)
    ex = qr_extraction(card)
    assert ex.document_type.code == "GT.CCCD"
    owner = ex.get("owner_id")
    assert owner is not None and owner.source is FieldSource.QR and owner.confidence == 1.0
    assert ex.to_json()["fields"]["owner_birth_date"] == {"value": "1999-03-15", "confidence": 1.0, "source": "qr"}
    assert ex.get("residence") is not None and ex.get("old_id") is not None


def test_payload_without_old_id() -> None:
    card = parse_cccd_qr(VALID.replace("|012345678|", "||"), today=TODAY)
    assert card.old_id is None and "old_id" not in card.fields()


def test_valid_payload_from_camera_images(tmp_path: Path) -> None:
    assert read_cccd_qr_image(qr_png(VALID), today=TODAY).personal_id == "001099000001"
    photo = tmp_path / "card.jpg"
    photo.write_bytes(camera_photo(VALID))
    assert read_cccd_qr_image(photo, today=TODAY).full_name == "Nguyễn Văn An"


@pytest.mark.parametrize("payload,needle", [
    ("001099000001|012345678|Nguyễn Văn An|1503", "expected 7 fields"),  # truncated
    (VALID + "|extra", "expected 7 fields"),
    ("001099000001|012345678|Nguyễn Văn An|15031999|Nữ|Hà Nội|09082022", "gender (field 5) does not match"),
    ("001099000001|012345678|Nguyễn Văn An|15031998|Nam|Hà Nội|09082022", "birth year (field 4) does not match"),
    ("001099000001|012345678|Nguyễn Văn An|30021999|Nam|Hà Nội|09082022", "date of birth (field 4)"),
    ("001099000001|012345678|Nguyễn Văn An|15031999|Nam|Hà Nội|0908202", "issue date (field 7)"),
    ("003099000001|012345678|Nguyễn Văn An|15031999|Nam|Hà Nội|09082022", "personal ID (field 1)"),
    ("001099000001|01234567|Nguyễn Văn An|15031999|Nam|Hà Nội|09082022", "old ID (field 2)"),
    ("001099000001|012345678|Nguyễn V4n An|15031999|Nam|Hà Nội|09082022", "full name (field 3)"),
    ("001099000001|012345678|Nguyễn Văn An|15031999|Male|Hà Nội|09082022", "gender (field 5) must be"),
    ("001099000001|012345678|Nguyễn Văn An|15031999|Nam||09082022", "address (field 6)"),
    ("001099000001|012345678|Nguyễn Văn An|15031999|Nam|Hà Nội|09081998", "before the date of birth"),
    ("001099000001|012345678|Nguyễn Văn An|15031999|Nam|Hà Nội|09082099", "in the future"),
    ("001099000001|012345678|Nguyễn\x07 Văn An|15031999|Nam|Hà Nội|09082022", "control characters"),
    ("", "empty"),
])
def test_bad_payloads(payload: str, needle: str) -> None:
    with pytest.raises(InputError) as err:
        parse_cccd_qr(payload, today=TODAY)
    assert needle in err.value.message
    assert err.value.remedy and err.value.exit_code == ExitCode.INPUT
    # No personal data in the message (it can reach a log line).
    for secret in ("001099000001", "Nguyễn", "012345678"):
        assert secret not in err.value.message


def test_non_utf8_bytes() -> None:
    raw = VALID.encode("utf-8").replace("Văn".encode(), "V\xe3n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        parse_cccd_qr(raw, today=TODAY)
    with pytest.raises(InputError, match="not UTF-8"):
        read_cccd_qr_image(qr_png(raw), today=TODAY)


def test_oversized_payload() -> None:
    with pytest.raises(InputError, match="more than the 2048"):
        parse_cccd_qr(VALID + "x" * 3000, today=TODAY)
    with pytest.raises(InputError, match="more than the 64"):
        parse_cccd_qr(VALID, max_bytes=64, today=TODAY)


def test_garbage_and_qr_less_images(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a readable image"):
        decode_qr_image(b"\x89PNG\r\n\x1a\n this is not a png")
    blank = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(blank, "PNG")
    with pytest.raises(InputError, match="no QR code found"):
        decode_qr_image(blank.getvalue())
    with pytest.raises(InputError, match="cannot be read"):
        decode_qr_image(tmp_path / "missing.png")
    with pytest.raises(InputError, match="expected 7 fields"):
        read_cccd_qr_image(qr_png("https://dichvucong.gov.vn/ho-so/000.00.00.H56-230405-0001"), today=TODAY)


def test_decompression_bomb_refused() -> None:
    buf = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buf, "PNG")
    with pytest.raises(InputError, match="too many pixels"):
        decode_qr_image(buf.getvalue())


def test_qr_overrides_ocr_owner_fields() -> None:
    ocr = extract_pages([residence_certificate(owner_id="003088001234")], today=TODAY)
    assert ocr.flagged("owner_id")
    card = parse_cccd_qr("036088001234||Nguyễn Văn Thử|14021988|Nam|Xóm 5, xã Hải Minh|01012022", today=TODAY)
    merged = merge_qr(ocr, card)
    owner = merged.get("owner_id")
    assert owner is not None and owner.value == "036088001234" and owner.source is FieldSource.QR
    assert not merged.flagged("owner_id")
    assert merged.get("number_symbol") == ocr.get("number_symbol")
    # The certificate's own residence is kept; card-only data is added.
    assert merged.get("residence") == ocr.get("residence")
    assert merged.get("gender") is not None and merged.get("gender").source is FieldSource.QR  # type: ignore
    assert merged.document_type == ocr.document_type


def _tiff_with_damaged_tag() -> bytes:
    """A TIFF whose one damaged tag makes Pillow raise TypeError, not OSError, while reading it."""
    buf = io.BytesIO()
    Image.new("RGB", (300, 420), (250, 250, 250)).save(buf, "TIFF", dpi=(300, 300))
    data = bytearray(buf.getvalue())
    data[72] = 7
    return bytes(data)


def test_damaged_tiff_photo_is_a_clear_input_error() -> None:
    with pytest.raises(InputError, match="not a readable image") as err:
        decode_qr_image(_tiff_with_damaged_tag())
    assert err.value.remedy
