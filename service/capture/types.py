"""Typed values of the capture stage: one page image and one captured document."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from service.domain.errors import IntegrityError


class Side(StrEnum):
    """Which side of the paper sheet an image shows."""

    FRONT = "front"
    BACK = "back"


class ColourMode(StrEnum):
    """Colour mode of a page image as captured."""

    COLOUR = "colour"
    GREY = "grey"
    BILEVEL = "bilevel"


@dataclass(frozen=True, slots=True)
class PageImage:
    """One captured page image; ``data`` is exactly what goes into the PDF (JPEG or PNG bytes).

    ``sha256`` is computed at capture and re-checked before PDF assembly (:meth:`verify`).
    ``sticky_note_of`` is the 0-based index of the page this image re-captures with its sticky
    note on (Art. 8: a page with a sticky note is captured twice, with and without the note).
    """

    data: bytes = field(repr=False)
    media_type: str
    width: int
    height: int
    dpi: float
    colour: ColourMode
    sha256: str
    side: Side = Side.FRONT
    blank: bool = False
    sticky_note_of: int | None = None
    #: quality warnings (kind, Vietnamese instruction) shown to the user and recorded; never blocking
    warnings: tuple[tuple[str, str], ...] = ()

    def verify(self) -> None:
        """Raise :class:`IntegrityError` if the bytes no longer match the capture hash."""
        actual = hashlib.sha256(self.data).hexdigest()
        if actual != self.sha256:
            raise IntegrityError(
                f"page image changed after capture (hash {actual[:12]}… ≠ {self.sha256[:12]}…)",
                remedy="capture the page again; the stored image is not the one that was captured",
            )


@dataclass(frozen=True, slots=True)
class CaptureSet:
    """The pages of one paper document in order, with the officer's declared page count."""

    pages: tuple[PageImage, ...]
    declared_pages: int | None = None
    mismatch_reason: str | None = None

    @property
    def content_pages(self) -> int:
        """Pages counted against the declared count: blank backs and sticky-note re-captures excluded."""
        return sum(1 for p in self.pages if p.sticky_note_of is None and not (p.side is Side.BACK and p.blank))

    @property
    def count_mismatch(self) -> bool:
        """True when a page count was declared and differs from :attr:`content_pages`."""
        return self.declared_pages is not None and self.declared_pages != self.content_pages
