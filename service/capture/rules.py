"""TT 01/2023 Art. 8 capture rules over a sequence of page images.

Pages keep their capture order; duplex captures alternate front/back and blank backs are kept
and marked (never dropped); a sticky-note re-capture is linked to its page; the declared page
count is reconciled and a mismatch blocks finalizing unless the officer records a reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from service.capture.config import CaptureConfig
from service.capture.images import load_page_image
from service.capture.types import CaptureSet, PageImage, Side
from service.domain.errors import InputError, ValidationError


@dataclass(frozen=True, slots=True)
class RawPage:
    """One image as it arrived (bytes plus a neutral label used in messages)."""

    data: bytes
    label: str
    source: str = "scanner"  # scanner | camera: which live quality checks apply


def _sides(count: int, duplex: bool, sticky: set[int]) -> list[Side]:
    """Front/back of each image; sticky-note re-captures take the side of the page they repeat."""
    sides: list[Side] = []
    sheet_pos = 0
    for i in range(count):
        if i in sticky:
            sides.append(sides[i - 1])
            continue
        sides.append(Side.BACK if duplex and sheet_pos % 2 == 1 else Side.FRONT)
        sheet_pos += 1
    return sides


def assemble(raw: Sequence[RawPage], *, config: CaptureConfig, duplex: bool = False,
             sticky_notes: Sequence[int] = (), declared_pages: int | None = None,
             mismatch_reason: str | None = None, sides: Sequence[Side] | None = None) -> CaptureSet:
    """Validate every image and build the ordered :class:`CaptureSet`.

    ``sticky_notes`` are 0-based indexes of images that re-capture the previous image with its
    sticky note on. ``sides`` (one per image) overrides the front/back alternation of ``duplex``
    (the kiosk knows each page's side: a duplex scan's, or a blank back after a camera page).
    Raises :class:`InputError` / :class:`QualityError` for a bad image and
    :class:`ValidationError` for inconsistent arguments.
    """
    if not raw:
        raise InputError("no page images were given", remedy="capture at least one page")
    sticky = set(sticky_notes)
    for idx in sorted(sticky):
        if idx <= 0 or idx >= len(raw):
            raise ValidationError("sticky_note", f"image {idx + 1} cannot be a sticky-note re-capture",
                                  remedy="name an image that directly follows the page it repeats (2..N)")
        if idx - 1 in sticky:
            raise ValidationError("sticky_note", f"image {idx + 1} follows another re-capture",
                                  remedy="capture each page without its note first, then with the note")
    if declared_pages is not None and declared_pages < 1:
        raise ValidationError("declared_pages", "must be at least 1", remedy="count the paper's pages again")
    if sides is not None and len(sides) != len(raw):
        raise ValidationError("sides", f"{len(sides)} sides given for {len(raw)} page images",
                              remedy="give one side (front or back) per page image")
    page_sides = list(sides) if sides is not None else _sides(len(raw), duplex, sticky)
    pages: list[PageImage] = []
    first_seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        page = load_page_image(item.data, name=item.label, config=config, side=page_sides[i],
                               sticky_note_of=i - 1 if i in sticky else None, source=item.source)
        earlier = first_seen.setdefault(hashlib.sha256(item.data).hexdigest(), i)
        if earlier != i and not page.blank:
            raise InputError(f"{item.label}: is the same image file as {raw[earlier].label} (page given twice)",
                             remedy="give each page once; capture the page again if it really repeats")
        pages.append(page)
    reason = mismatch_reason.strip() if mismatch_reason and mismatch_reason.strip() else None
    return CaptureSet(pages=tuple(pages), declared_pages=declared_pages, mismatch_reason=reason)


def check_finalizable(capture: CaptureSet) -> None:
    """Refuse to finalize a capture whose page count differs from the declared one without a reason."""
    if capture.count_mismatch and capture.mismatch_reason is None:
        raise ValidationError(
            "declared_pages",
            f"{capture.declared_pages} pages declared but {capture.content_pages} captured "
            "(blank backs and sticky-note re-captures not counted)",
            remedy="capture the missing pages, or record the reason for the difference (--mismatch-reason)",
        )


def verify_hashes(capture: CaptureSet) -> None:
    """Re-check every page's capture hash (before PDF assembly); raises :class:`IntegrityError`."""
    for page in capture.pages:
        page.verify()
