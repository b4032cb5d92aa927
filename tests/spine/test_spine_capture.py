"""Capture rules (TT 01/2023 Art. 8) on real image bytes."""

from __future__ import annotations

import dataclasses
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from service.capture import (
    CaptureConfig,
    FileCamera,
    RawPage,
    Side,
    assemble,
    check_finalizable,
    load_page_image,
    verify_hashes,
)
from service.domain.errors import DeviceError, InputError, IntegrityError, QualityError, ValidationError

from .helpers import page_image

CFG = CaptureConfig()


def raw(data: bytes, label: str = "page") -> RawPage:
    return RawPage(data, label)


def bomb_png(width: int = 60_000, height: int = 60_000) -> bytes:
    """A tiny PNG whose header claims a huge bitmap (decompression bomb)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_page_image_is_hashed_typed_and_passes_jpeg_through() -> None:
    data = page_image()
    page = load_page_image(data, name="p1", config=CFG)
    assert page.data == data  # JPEG not re-encoded
    assert page.media_type == "image/jpeg"
    assert page.dpi == 300 and page.side is Side.FRONT and not page.blank
    assert len(page.sha256) == 64
    page.verify()


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"%PDF-1.7 this is not an image", "not an image"),
    (b"hello, plain text", "not an image"),
    (page_image()[:3000], "corrupt or truncated"),
    (page_image(fmt="PNG")[:2500], "corrupt or truncated"),
    (page_image()[:200] + b"\x00" * 500 + page_image()[700:], "corrupt or truncated"),
    (bomb_png(), "decompression bomb"),
])
def test_bad_inputs_are_input_errors_with_a_remedy(data: bytes, words: str) -> None:
    with pytest.raises(InputError) as exc:
        load_page_image(data, name="page 1", config=CFG)
    assert words in exc.value.message
    assert exc.value.remedy


def test_huge_file_is_refused_before_decoding() -> None:
    cfg = CaptureConfig(max_file_bytes=2048)
    with pytest.raises(InputError, match="larger than"):
        load_page_image(page_image(), name="p", config=cfg)


def test_multi_frame_tiff_is_refused() -> None:
    frames = [Image.new("RGB", (700, 990), "white") for _ in range(2)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], dpi=(300, 300))
    with pytest.raises(InputError, match="holds 2 images"):
        load_page_image(buf.getvalue(), name="p", config=CFG)


def test_below_200_dpi_is_refused_with_what_to_do() -> None:
    with pytest.raises(QualityError) as exc:
        load_page_image(page_image(dpi=150), name="page 2", config=CFG)
    assert "150 dpi" in exc.value.message and "200" in exc.value.message
    assert "capture the page again" in (exc.value.remedy or "")


def test_resolution_without_metadata_is_measured_on_a4_width() -> None:
    # 1654 px across 210 mm = 200 dpi: accepted; 1200 px = 145 dpi: refused
    ok = load_page_image(page_image(size=(1654, 2339), dpi=None, fmt="PNG"), name="p", config=CFG)
    assert ok.dpi == pytest.approx(200.06, abs=0.1)
    with pytest.raises(QualityError, match="145 dpi"):
        load_page_image(page_image(size=(1200, 1700), dpi=None, fmt="PNG"), name="p", config=CFG)


@pytest.mark.parametrize("mode", ["L", "1"])
def test_non_colour_is_refused_when_colour_is_required(mode: str) -> None:
    data = page_image(mode=mode, fmt="PNG")
    with pytest.raises(QualityError, match="colour is required"):
        load_page_image(data, name="p", config=CFG)
    page = load_page_image(data, name="p", config=CaptureConfig(require_colour=False))
    assert page.colour.value in ("grey", "bilevel")


def test_png_with_alpha_is_flattened_losslessly_and_hashed_as_embedded() -> None:
    img = Image.new("RGBA", (700, 990), (255, 0, 0, 128))
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(300, 300))
    page = load_page_image(buf.getvalue(), name="p", config=CFG)
    assert page.media_type == "image/png"
    assert Image.open(io.BytesIO(page.data)).mode == "RGB"
    page.verify()


def test_blank_back_is_detected_marked_and_kept() -> None:
    pages = [raw(page_image(seed=1)), raw(page_image(blank=True)), raw(page_image(seed=2)), raw(page_image(seed=3))]
    cap = assemble(pages, config=CFG, duplex=True, declared_pages=3)
    assert [p.side for p in cap.pages] == [Side.FRONT, Side.BACK, Side.FRONT, Side.BACK]
    assert [p.blank for p in cap.pages] == [False, True, False, False]
    assert len(cap.pages) == 4  # nothing dropped
    assert cap.content_pages == 3
    check_finalizable(cap)


def test_faint_noise_on_a_back_still_counts_as_blank() -> None:
    img = Image.effect_noise((700, 990), 6).convert("RGB").point(lambda v: min(255, v + 150))
    buf = io.BytesIO()
    img.save(buf, "JPEG", dpi=(300, 300))
    assert load_page_image(buf.getvalue(), name="p", config=CFG).blank


def test_sticky_note_recapture_is_linked_and_not_counted() -> None:
    pages = [raw(page_image(seed=1)), raw(page_image(seed=2)), raw(page_image(seed=3))]
    cap = assemble(pages, config=CFG, sticky_notes=[1], declared_pages=2)
    assert cap.pages[1].sticky_note_of == 0
    assert cap.pages[0].sticky_note_of is None
    assert cap.content_pages == 2
    check_finalizable(cap)


@pytest.mark.parametrize("sticky", [[0], [3], [1, 2]])
def test_bad_sticky_links_are_refused(sticky: list[int]) -> None:
    pages = [raw(page_image(seed=i)) for i in range(3)]
    with pytest.raises(ValidationError, match="sticky_note"):
        assemble(pages, config=CFG, sticky_notes=sticky)


def test_declared_count_mismatch_blocks_finalize_unless_a_reason_is_recorded() -> None:
    pages = [raw(page_image(seed=i)) for i in range(2)]
    cap = assemble(pages, config=CFG, declared_pages=3)
    with pytest.raises(ValidationError) as exc:
        check_finalizable(cap)
    assert exc.value.field == "declared_pages" and "3 pages declared but 2 captured" in exc.value.message
    blank_reason = assemble(pages, config=CFG, declared_pages=3, mismatch_reason="   ")
    with pytest.raises(ValidationError):
        check_finalizable(blank_reason)
    with_reason = assemble(pages, config=CFG, declared_pages=3, mismatch_reason="page 3 torn off, kept by owner")
    check_finalizable(with_reason)
    assert with_reason.mismatch_reason == "page 3 torn off, kept by owner"


def test_pages_keep_capture_order() -> None:
    datas = [page_image(seed=i) for i in range(5)]
    cap = assemble([raw(d, f"p{i}") for i, d in enumerate(datas)], config=CFG)
    assert [p.data for p in cap.pages] == datas


def test_changed_bytes_after_capture_fail_the_hash_recheck() -> None:
    cap = assemble([raw(page_image())], config=CFG)
    verify_hashes(cap)
    tampered = dataclasses.replace(cap, pages=(dataclasses.replace(cap.pages[0], data=page_image(seed=5)),))
    with pytest.raises(IntegrityError, match="changed after capture"):
        verify_hashes(tampered)


def test_no_pages_and_bad_declared_count_are_refused() -> None:
    with pytest.raises(InputError):
        assemble([], config=CFG)
    with pytest.raises(ValidationError, match="declared_pages"):
        assemble([raw(page_image())], config=CFG, declared_pages=0)


def test_file_camera_reads_in_order_and_reports_problems(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    a.write_bytes(page_image(seed=1))
    b.write_bytes(page_image(seed=2))
    cam = FileCamera([a, b, tmp_path / "missing.jpg", tmp_path])
    assert cam.capture().data == a.read_bytes()
    assert cam.capture().data == b.read_bytes()
    with pytest.raises(InputError, match="does not exist"):
        cam.capture()
    with pytest.raises(InputError, match="folder"):
        cam.capture()
    with pytest.raises(DeviceError):
        cam.capture()


@pytest.mark.parametrize("condition", ["clean", "scanner", "phone"])
def test_blank_detection_on_rendered_pages_under_each_condition(condition: str) -> None:
    from service.synth.degrade import degrade
    from service.synth.render import render_document
    from service.synth.samples import sample_document

    def jpeg(img: Image.Image) -> bytes:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85, dpi=(200, 200))
        return buf.getvalue()

    [page] = render_document(sample_document("gxn-cu-tru-0001"), dpi=200, condition=condition)
    blank, _ = degrade(Image.new("RGB", (1654, 2339), (250, 250, 246)), [], condition, 7, 200)  # type: ignore[arg-type]
    assert not load_page_image(jpeg(page.image), name="front", config=CFG).blank
    assert load_page_image(jpeg(blank), name="back", config=CFG).blank


def test_scanner_tiff_becomes_lossless_png_with_its_resolution() -> None:
    src = Image.open(io.BytesIO(page_image(fmt="PNG"))).convert("RGB")
    buf = io.BytesIO()
    src.save(buf, "TIFF", dpi=(300, 300), compression="tiff_lzw")
    page = load_page_image(buf.getvalue(), name="p", config=CFG)
    assert page.media_type == "image/png" and page.dpi == 300
    assert Image.open(io.BytesIO(page.data)).tobytes() == src.tobytes()
