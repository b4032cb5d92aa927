"""Live capture quality control on rendered pages degraded by the bench's own degradations.

Each kind is raised on a page degraded for it and no kind on the clean pages (scanner- and
camera-like); ``sohoa quality`` keeps its JSON shape and exit codes; ``sohoa digitize`` refuses a
blurred page with the Vietnamese instruction and stores nothing; a camera capture is stored as a
JPEG that passes unchanged into a valid PDF/A.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from bench.quality import DEGRADATIONS, Clean
from firmware.config import FilesCameraConfig
from service.capture import CaptureConfig, RawPage, assemble, load_page_image
from service.capture.quality import INSTRUCTIONS, assess
from service.cli.main import main
from service.desk.camera import DeskCamera
from service.desk.drafts import DraftStore
from service.domain.errors import ExitCode, QualityError
from service.pdf import build_pdfa, validate_pdfa

from .helpers import DOC_TYPE, OWNER, store_rows

CFG = CaptureConfig()
Run = Callable[..., tuple[int, str, str]]
#: the strength of each degradation the tests use (the strongest the bench measures)
STRENGTH = {"blur": 10.0, "cutoff": 0.4, "glare": 0.28, "dark": 0.3, "bright": 3.0, "skew": 12.0,
            "lowres": 3.0, "grey": 1.0}


@pytest.fixture(scope="module")
def pages() -> list[Clean]:
    """One document page rendered clean, scanner-like and camera-like at 200 dpi."""
    from service.synth.render import render_document
    from service.synth.samples import sample_documents

    doc = sample_documents()[0]
    out = []
    for condition, source in (("clean", "scanner"), ("scanner", "scanner"), ("phone", "camera")):
        img = render_document(doc, dpi=200, condition=condition, seed=1)[0].image.convert("RGB")
        out.append(Clean(img, 200, source))
    return out


def _kinds(img: Image.Image, page: Clean) -> set[str]:
    return {p.kind for p in assess(img, page.dpi, source=page.source, cfg=CFG.quality, min_dpi=CFG.min_dpi,
                                   require_colour=True)}


def _png(img: Image.Image, dpi: int = 200) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(dpi, dpi))
    return buf.getvalue()


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def _run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err
    return _run


def test_clean_pages_raise_no_problem(pages: list[Clean]) -> None:
    for page in pages:
        assert _kinds(page.image, page) == set(), page.source


@pytest.mark.parametrize("kind", sorted(STRENGTH))
def test_every_kind_is_detected_on_a_degraded_page(pages: list[Clean], kind: str) -> None:
    fn, _, _ = DEGRADATIONS[kind]
    for page in pages:
        assert kind in _kinds(fn(page.image, STRENGTH[kind], page.dpi), page), page.source


def test_a_blocking_problem_refuses_the_page_with_the_vietnamese_instruction(pages: list[Clean]) -> None:
    blurred = DEGRADATIONS["blur"][0](pages[0].image, 10.0, 200)
    with pytest.raises(QualityError) as exc:
        load_page_image(_png(blurred), name="page 2", config=CFG)
    assert "page 2" in exc.value.message and INSTRUCTIONS["blur"] in exc.value.message
    assert exc.value.exit_code == ExitCode.QUALITY


def test_a_warning_is_kept_on_the_accepted_page(pages: list[Clean]) -> None:
    soft = DEGRADATIONS["blur"][0](pages[0].image, 2.0, 200)  # legible, but softer than a good capture
    page = load_page_image(_png(soft), name="page 1", config=CFG)
    assert ("blur", INSTRUCTIONS["blur"]) in page.warnings


def test_quality_cli_json_shape_and_exit_codes(run: Run, pages: list[Clean], tmp_path: Path,
                                               sohoa_home: Path) -> None:
    clean, blurred, junk = tmp_path / "clean.png", tmp_path / "blur.png", tmp_path / "junk.png"
    clean.write_bytes(_png(pages[2].image))
    blurred.write_bytes(_png(DEGRADATIONS["blur"][0](pages[2].image, 10.0, 200)))
    junk.write_bytes(b"not an image")
    code, out, _ = run("quality", str(clean), "--source", "camera", "--json")
    assert code == 0 and json.loads(out) == {"pages": [{"ok": True, "problems": []}]}
    code, out, _ = run("quality", str(clean), str(blurred), "--source", "camera", "--json")
    data = json.loads(out)
    assert code == ExitCode.QUALITY and [p["ok"] for p in data["pages"]] == [True, False]
    problem = data["pages"][1]["problems"][0]
    assert problem["kind"] == "blur" and problem["message"] == INSTRUCTIONS["blur"]
    assert set(problem) >= {"kind", "message"}
    code, _, err = run("quality", str(junk), "--json")
    assert code == ExitCode.INPUT and "not an image" in err


def test_digitize_refuses_a_blurred_page_and_stores_nothing(run: Run, pages: list[Clean], tmp_path: Path,
                                                           sohoa_home: Path) -> None:
    good, bad = tmp_path / "1.png", tmp_path / "2.png"
    good.write_bytes(_png(pages[0].image))
    bad.write_bytes(_png(DEGRADATIONS["blur"][0](pages[0].image, 10.0, 200)))
    code, _, err = run("digitize", str(good), str(bad), "--owner", OWNER, "--doc-type", DOC_TYPE, "--no-ocr")
    assert code == ExitCode.QUALITY
    assert "page 2" in err and "Giữ máy chắc tay, chụp lại" in err
    assert not any(store_rows(sohoa_home).values())


def test_camera_capture_is_stored_as_jpeg_and_its_pdfa_validates(pages: list[Clean], tmp_path: Path) -> None:
    folder = tmp_path / "cam"
    folder.mkdir()
    png = _png(pages[2].image)  # a camera-like frame: sensor noise, uneven light
    (folder / "001.png").write_bytes(png)
    camera = DeskCamera(FilesCameraConfig(folder=folder), tmp_path / "samples")
    try:
        data = camera.capture()
    finally:
        camera.close()
    assert data.startswith(b"\xff\xd8\xff") and len(data) < len(png) / 2
    with Image.open(io.BytesIO(data)) as img:
        assert img.mode == "RGB" and round(img.info["dpi"][0]) == 200
    drafts = DraftStore(tmp_path / "drafts")
    draft = drafts.create("officer", "officer-1")
    from service.desk.drafts import DraftComponent

    draft.components.append(DraftComponent(code="c1", name="Giấy", declared_pages=1))
    fb = drafts.add_page(draft, "c1", data)
    assert fb.accepted, fb.message
    stored, media = drafts.page_bytes(draft, draft.components[0].pages[0].sha256)
    assert media == "image/jpeg" and stored == data  # kept as captured, not re-encoded
    capture = assemble([RawPage(stored, "page 1", source="camera")], config=CFG)
    assert capture.pages[0].data == data
    from service.domain.fields import Metadata

    pdf = build_pdfa(capture, Metadata(document_type_code=DOC_TYPE), f"{OWNER}.{DOC_TYPE}")
    assert validate_pdfa(pdf).ok
    assert data in pdf  # the JPEG passes through into the PDF unchanged


def test_digitize_stores_a_page_with_a_warning_and_records_it(run: Run, pages: list[Clean], tmp_path: Path,
                                                             sohoa_home: Path) -> None:
    from service.paths import get_paths
    from service.store import Store

    soft = tmp_path / "1.png"
    soft.write_bytes(_png(DEGRADATIONS["blur"][0](pages[0].image, 2.0, 200)))
    code, out, err = run("digitize", str(soft), "--owner", OWNER, "--doc-type", DOC_TYPE, "--no-ocr", "--json")
    assert code == 0, err
    assert f"warning: page 1: blur: {INSTRUCTIONS['blur']}" in err
    with Store.open(get_paths(sohoa_home)) as store:
        doc_id = store.audit_entries()[-1].subject
        recorded = [e.details for e in store.audit_entries(subject=doc_id) if e.action == "capture_warnings"]
    assert recorded == [{"pages": [{"page": 1, "kind": "blur"}]}]
    assert OWNER not in json.dumps(recorded)


def test_a_callers_grey_copy_measures_like_a_fresh_conversion(pages: list[Clean]) -> None:
    """``measure`` with the page's grey copy handed in (as ``load_page_image`` does) gives the same
    measures; a page with transparency is still measured flattened over white, whatever grey is given."""
    import numpy as np

    from service.capture.quality import measure

    glare = DEGRADATIONS["glare"][0]
    for page in pages:
        for img in (page.image, glare(page.image, STRENGTH["glare"], page.dpi)):
            assert measure(img, page.dpi, CFG.quality, grey=img.convert("L")) == measure(img, page.dpi, CFG.quality)
    rgba = np.asarray(pages[0].image.convert("RGBA")).copy()
    rgba[: rgba.shape[0] // 3, :, 3] = 0  # the top third transparent: white paper once flattened
    img = Image.fromarray(rgba, "RGBA")
    flat = Image.new("RGB", img.size, (255, 255, 255))
    flat.paste(img, mask=img.getchannel("A"))
    expected = measure(flat, 200, CFG.quality)
    assert measure(img, 200, CFG.quality, grey=img.convert("L")) == expected == measure(img, 200, CFG.quality)
