"""Kiosk capture from every source — desk camera, document scanner, file upload — and live preview QC.

The views call these (never the drivers): each source's images go through the same capture
rules, decode checks and quality checks (:meth:`service.desk.drafts.DraftStore.add_page`), so a
page is accepted or refused for the same reasons whichever way it arrived.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from service.capture.quality import assess_preview
from service.desk.camera import DeskCamera
from service.desk.drafts import CaptureFeedback, Draft, DraftStore, unreadable_reason
from service.desk.scanner import DeskScanner, ScannerFault
from service.desk.upload import split_upload
from service.errors import InputError

__all__ = ["CaptureSources", "DeskScanner", "PreviewProblem", "PreviewQuality", "ScanOutcome", "ScannerFault",
           "capture_sources", "from_camera", "from_scanner", "from_upload", "preview_quality"]


@dataclass(frozen=True, slots=True)
class CaptureSources:
    """Which sources the capture screen offers, and which of them are simulated."""

    camera: bool
    camera_simulated: bool
    scanner: bool
    scanner_simulated: bool


@dataclass(frozen=True, slots=True)
class PreviewProblem:
    """One problem seen on the live preview: kind, ``blocking`` or ``warning``, Vietnamese instruction."""

    kind: str
    severity: str
    message: str


@dataclass(frozen=True, slots=True)
class PreviewQuality:
    """The live verdict on the preview frame (``ok``: nothing blocking)."""

    ok: bool
    problems: tuple[PreviewProblem, ...]


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """One feeder batch: each page's feedback in feed order, and the fault that stopped it, if any."""

    pages: tuple[CaptureFeedback, ...]
    fault: ScannerFault | None = None


def capture_sources(camera: DeskCamera, scanner: DeskScanner) -> CaptureSources:
    """The sources of this kiosk (upload is always offered)."""
    return CaptureSources(camera=camera.capture_dpi > 0, camera_simulated=camera.simulated,
                          scanner=scanner.fitted, scanner_simulated=scanner.simulated)


def preview_quality(store: DraftStore, camera: DeskCamera) -> PreviewQuality:
    """Quality checks on the current preview frame, judged for the still it previews.

    Cheap enough to poll on a Pi: the frame is the ≤640 px preview, measured at its own
    resolution; low resolution is judged at the camera's capture resolution. DeviceError when
    the camera gives no frame.
    """
    cfg = store.capture
    rgb = camera.preview_rgb()
    img = Image.fromarray(rgb)
    preview_dpi = min(img.size) / (cfg.assumed_page_width_mm / 25.4)
    found = assess_preview(img, preview_dpi=preview_dpi, capture_dpi=camera.capture_dpi, source="camera",
                           cfg=cfg.quality, min_dpi=cfg.min_dpi, require_colour=cfg.require_colour) \
        if cfg.quality.enabled else []
    problems = tuple(PreviewProblem(p.kind, p.severity.value, p.message) for p in found)
    return PreviewQuality(ok=not any(p.severity == "blocking" for p in problems), problems=problems)


def from_camera(store: DraftStore, camera: DeskCamera, draft: Draft, component: str, *, sticky: bool = False,
                sticky_index: int | None = None, replace_index: int | None = None) -> CaptureFeedback:
    """Take a still with the desk camera and add it (a sticky-note re-capture of page ``sticky_index``)."""
    return store.add_page(draft, component, camera.capture(), sticky=sticky, sticky_index=sticky_index,
                          replace_index=replace_index, source="camera")


def from_scanner(store: DraftStore, scanner: DeskScanner, draft: Draft, component: str, *,
                 duplex: bool) -> ScanOutcome:
    """Scan the feeder into ``component``: duplex backs come with their side (a blank back is kept,
    marked and not counted); pages scanned before a jam or an open cover are kept."""
    batch = scanner.scan(duplex=duplex, dpi=store.capture.scan_dpi)
    pages = tuple(store.add_page(draft, component, page.data, source="scanner", side=page.side)
                  for page in batch.pages)
    return ScanOutcome(pages, batch.fault)


def from_upload(store: DraftStore, draft: Draft, component: str, data: bytes) -> tuple[CaptureFeedback, ...]:
    """Add the pages of an uploaded image or PDF (size-limited; each page checked like any capture)."""
    try:
        images = split_upload(data, store.capture)
    except InputError as exc:
        return (CaptureFeedback(False, exc.message, exc.remedy or "", kind="unreadable",
                                reason=unreadable_reason(exc)),)
    return tuple(store.add_page(draft, component, image, source="upload") for image in images)
