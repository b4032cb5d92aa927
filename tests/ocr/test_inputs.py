"""Bad input gets a clear typed error; the manifest catches replaced models; the CLI contract."""

from __future__ import annotations

import io
import json
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from service.cli.main import main
from service.domain.errors import ExitCode, InputError, OcrError
from service.imaging import prepare
from service.ocr.config import OcrConfig
from service.ocr.engine import OcrEngine, get_engine
from service.ocr.manifest import DEFAULT_MANIFEST, resolve
from service.ocr.metrics import match_lines
from service.ocr.recognizer import join_overlapping, plan_chunks
from service.synth.render import render_document
from service.synth.samples import sample_document


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims ``width``×``height`` (a decompression bomb's calling card)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.mark.parametrize("case", ["empty", "corrupt", "truncated", "bomb", "missing", "folder", "tiff-tag"])
def test_bad_files_give_a_clear_input_error(tmp_path: Path, case: str) -> None:
    path = tmp_path / "page.png"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "corrupt":
        path.write_bytes(b"this is not an image at all" * 10)
    elif case == "truncated":
        render_document(sample_document("gxn-cu-tru-0001"), dpi=150)[0].image.save(path)
        path.write_bytes(path.read_bytes()[:5000])
    elif case == "bomb":
        _png_header_only(path, 60_000, 60_000)
    elif case == "folder":
        path.mkdir()
    elif case == "tiff-tag":  # one damaged tag: Pillow raises TypeError ("Missing dimensions") counting frames
        path = tmp_path / "page.tif"
        buf = io.BytesIO()
        Image.new("RGB", (300, 420), (250, 250, 250)).save(buf, "TIFF", dpi=(300, 300))
        data = bytearray(buf.getvalue())
        data[166] = 1
        path.write_bytes(bytes(data))
    with pytest.raises(InputError) as err:
        get_engine().read_file(path)
    assert err.value.remedy
    if case == "bomb":
        assert "decompression bomb" in err.value.remedy


@pytest.mark.parametrize("array", [np.zeros((0, 0, 3), np.uint8), np.zeros((8, 8), np.uint8),
                                   np.zeros((100, 100, 3), np.float32), np.zeros((50, 50, 2), np.uint8)])
def test_bad_arrays_give_a_clear_input_error(array: np.ndarray) -> None:
    with pytest.raises(InputError):
        get_engine().read_page(array)


def test_blank_page_reads_no_lines() -> None:
    page = get_engine().read_page(np.full((1200, 900, 3), 255, np.uint8))
    assert page.lines == () and (page.width, page.height) == (900, 1200)


def test_a_model_whose_hash_differs_from_the_manifest_is_refused(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_MANIFEST.read_text(encoding="utf-8"))
    data["models"]["rec-asternet"]["sha256"] = "0" * 64
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(OcrError) as err:
        OcrEngine(OcrConfig(manifest=manifest, detector="det-ppocrv4", recognizer="rec-asternet"))
    assert "SHA-256" in err.value.message and "reinstall" in (err.value.remedy or "")


@pytest.mark.parametrize(("name", "file", "remedy"), [
    ("rec-asternet-int8", "asternet-int8.onnx", "service.ocr.quantize"),
    ("det-ppocrv4-int8", "det-ppocrv4-int8.onnx", "service.ocr.quantize"),
    ("rec-fastctc", "rec-fastctc.onnx", "git checkout")])
def test_a_corrupted_local_model_file_is_refused(tmp_path: Path, name: str, file: str, remedy: str) -> None:
    shutil.copy(DEFAULT_MANIFEST, tmp_path / "manifest.json")
    source = DEFAULT_MANIFEST.parent / file
    damaged = bytearray(source.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    (tmp_path / file).write_bytes(bytes(damaged))
    with pytest.raises(OcrError, match="SHA-256"):
        resolve(name, tmp_path / "manifest.json")
    (tmp_path / file).unlink()
    with pytest.raises(OcrError, match="missing") as err:
        resolve(name, tmp_path / "manifest.json")
    assert remedy in (err.value.remedy or "")


def test_unknown_model_name_is_a_config_problem_with_a_remedy() -> None:
    with pytest.raises(OcrError) as err:
        resolve("no-such-model")
    assert "rec-asternet" in (err.value.remedy or "")


def test_cli_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "cert.png"
    render_document(sample_document("gxn-hon-nhan-0002"), dpi=200)[0].image.save(image)
    assert main(["ocr", str(image), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["pages"] and len(out["pages"]) == 1
    page = out["pages"][0]
    assert set(page) == {"width", "height", "lines"} and (page["width"], page["height"]) == (1654, 2339)
    texts = [ln["text"] for ln in page["lines"]]
    assert "Số: 87/UBND-XNHN" in texts
    for ln in page["lines"]:
        assert set(ln) == {"text", "box", "confidence"}
        assert len(ln["box"]) == 4 and all(isinstance(v, int) for v in ln["box"])
        assert 0.0 <= ln["confidence"] <= 1.0


def test_cli_reports_a_bad_file_with_exit_code_and_remedy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    assert main(["ocr", str(bad)]) == ExitCode.INPUT
    err = capsys.readouterr().err
    assert "what to do:" in err


def test_scanner_skew_is_measured_and_removed() -> None:
    rendered = render_document(sample_document("qd-2083-bac-lieu"), dpi=150, condition="scanner", seed=5)[0]
    true_angle = float(np.random.default_rng(5 * 1009 + 1).uniform(-2.0, 2.0))
    clean = prepare(rendered.image, "scanner")
    assert abs(clean.skew + true_angle) < 0.15


def test_camera_page_outline_is_found() -> None:
    rendered = render_document(sample_document("qd-2083-bac-lieu"), dpi=150, condition="phone", seed=2)[0]
    clean = prepare(rendered.image, "camera")
    assert clean.outline is not None
    w, h = clean.size
    assert 0.65 < w / h < 0.78  # an A4 sheet again (1 : 1.414)


def test_chunk_plan_cuts_at_word_gaps_and_overlaps_without_them() -> None:
    gray = np.full((32, 3000), 255, np.uint8)
    for x in range(0, 3000, 100):
        gray[8:24, x:x + 80] = 0  # "words" 80 px wide, 20 px gaps
    chunks = plan_chunks(gray, 1000)
    assert all(x1 - x0 <= 1000 for x0, x1, _ in chunks)
    assert chunks[0][0] == 0 and chunks[-1][1] == 3000
    assert not any(overlap for _, _, overlap in chunks)
    solid = np.zeros((32, 2500), np.uint8)
    chunks = plan_chunks(solid, 1000)
    assert any(overlap for _, _, overlap in chunks)
    assert all(b[0] < a[1] for a, b in zip(chunks, chunks[1:], strict=False))


def test_overlap_join_drops_the_repeated_part() -> None:
    assert join_overlapping("0123456789", "789abc", expected=3) == "0123456789abc"
    assert join_overlapping("abcdef", "xyz", expected=1) == "abcdefyz"


def test_tidy_fixes_only_legal_numbering_commas() -> None:
    from service.ocr.engine import tidy

    assert tidy("Điều 1, Công bố kèm theo") == "Điều 1. Công bố kèm theo"
    assert tidy("2, Bảo vệ an ninh mạng") == "2. Bảo vệ an ninh mạng"
    assert tidy("2, 3 và 4 của Luật") == "2, 3 và 4 của Luật"
    assert tidy("ngày 05, tháng") == "ngày 05, tháng"


def test_phone_jpeg_is_turned_upright_by_its_exif_orientation(tmp_path: Path) -> None:
    from PIL import Image

    upright = render_document(sample_document("gxn-hon-nhan-0002"), dpi=200)[0].image
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # how the sensor saved it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "photo.jpg"
    stored.save(path, quality=92, exif=exif)
    page = get_engine().read_file(path)[0]
    assert (page.width, page.height) == upright.size
    assert "Số: 87/UBND-XNHN" in [ln.text for ln in page.lines]


def test_every_page_of_a_multipage_tiff_is_read(tmp_path: Path) -> None:
    pages = render_document(sample_document("luat-24-2018-qh14"), dpi=150)
    path = tmp_path / "adf.tif"
    pages[0].image.save(path, save_all=True, append_images=[p.image for p in pages[1:]], compression="tiff_lzw")
    read = get_engine().read_file(path)
    assert len(read) == len(pages) >= 2
    # each page's own text, in order (a 150 dpi page number is below what the detector sees at
    # its 800 px input; the 200 dpi page number is test_engine's continuation-page test)
    for i, rendered in enumerate(pages):
        truth = [t.text for t in rendered.lines]
        mine = match_lines(truth, [ln.text for ln in read[i].lines]).page_cer
        other = match_lines(truth, [ln.text for ln in read[(i + 1) % len(read)].lines]).page_cer
        assert mine < 0.05 < other, (i, mine, other)


def test_a_red_seal_over_the_signer_does_not_reach_the_text(tmp_path: Path) -> None:
    from PIL import Image, ImageChops, ImageDraw

    from service.ocr.images import iter_pages
    from service.synth.fonts import load_font

    text = Image.new("RGB", (900, 220), "white")
    ImageDraw.Draw(text).text((60, 80), "CHỦ TỊCH", font=load_font("liberation", "bold", 56), fill=(20, 20, 20))
    seal = Image.new("RGB", text.size, "white")
    draw = ImageDraw.Draw(seal)
    draw.ellipse((20, 10, 330, 210), outline=(205, 35, 45), width=9)  # the seal's rings over the title
    draw.ellipse((60, 40, 290, 180), outline=(205, 35, 45), width=4)
    image = ImageChops.multiply(text, seal)  # seal ink is translucent: text under it stays dark
    path = tmp_path / "seal.png"
    image.save(path)
    gray = next(iter_pages(path, 10_000_000))
    assert gray.mode == "L" and int(np.asarray(gray)[110, 22:28].min()) > 200  # the ring is paper now
    page = get_engine().read_file(path)[0]
    assert [ln.text for ln in page.lines] == ["CHỦ TỊCH"]


def test_a_colour_page_is_lifted_band_by_band_without_losing_a_row() -> None:
    from PIL import Image

    from service.ocr.images import BAND, RED_MARGIN, without_red_ink

    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (2 * BAND + 37, 300, 3), dtype=np.uint8)  # two bands and a partial one
    rgb[BAND - 5:BAND + 5, :, :] = (220, 20, 30)  # red ink across the first band join
    pil = Image.fromarray(rgb, "RGB")
    r, gb = rgb[:, :, 0].astype(int), np.maximum(rgb[:, :, 1], rgb[:, :, 2]).astype(int)
    expected = np.array(pil.convert("L"))
    red = r - gb > RED_MARGIN
    expected[red] = rgb[:, :, 0][red]
    assert np.array_equal(np.asarray(without_red_ink(pil)), expected)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    lifted = without_red_ink(bgr)
    assert isinstance(lifted, np.ndarray) and lifted.shape == rgb.shape[:2]
    assert (lifted[BAND - 5:BAND + 5] >= 200).all()  # the red band turned to paper in the numpy path too


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_a_png_page_decodes_to_the_pixels_pillow_gives(tmp_path: Path, mode: str) -> None:
    # OpenCV decodes 8-bit PNGs (cheaper); the grey page, seal lifted, must be Pillow's to the pixel,
    # and a file missing only its end marker still reads as it always did
    from PIL import Image

    from service.ocr.images import iter_pages, without_red_ink

    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (300, 420, 3), dtype=np.uint8)
    pixels[40:60, :] = (215, 30, 40)  # seal ink
    image = Image.fromarray(pixels, "RGB").convert(mode)
    path = tmp_path / "page.png"
    image.save(path)
    expected = np.asarray(without_red_ink(image) if mode == "RGB" else image)
    pages = list(iter_pages(path, 10_000_000))
    assert len(pages) == 1 and pages[0].mode == "L"
    assert np.array_equal(np.asarray(pages[0]), expected)
    cut = tmp_path / "no-end.png"
    cut.write_bytes(path.read_bytes()[:-12])  # IEND chunk gone
    assert np.array_equal(np.asarray(next(iter_pages(cut, 10_000_000))), expected)
