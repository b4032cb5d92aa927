"""Dossiers being received at the desk (or the citizen kiosk) before they are digitized.

A draft holds the owner, the chosen procedure, the components received and, for each component,
its captured pages in order (sticky-note re-captures linked to their page) or the code of an
already digitized paper reused from the store. Drafts live as one JSON file plus page images in
``SOHOA_HOME/kiosk/drafts/<id>/``, written atomically, so a power cut loses no captured page.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from service.capture.config import CaptureConfig
from service.capture.images import load_page_image, quality_report
from service.capture.quality import blocking
from service.durable import write_durable
from service.errors import InputError, NotFoundError, QualityError, SohoaError, ValidationError

_EXT = {"image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif"}


@dataclass
class DraftPage:
    """One captured page image (stored under its SHA-256) and its quality notes."""

    sha256: str
    ext: str
    width: int
    height: int
    dpi: float
    blank: bool = False
    sticky_of: str | None = None  # sha256 of the page this one re-captures with its sticky note
    side: str = "front"  # front | back (a scanner's duplex back, or a blank capture after a page)
    source: str = "camera"  # camera | scanner | upload
    warnings: list[str] = field(default_factory=list)  # quality warning kinds recorded with the page

    @property
    def counted(self) -> bool:
        """Whether the page counts against the declared pages (not a re-capture, not a blank back)."""
        return self.sticky_of is None and not (self.blank and self.side == "back")


@dataclass
class DraftComponent:
    """One dossier component received: declared pages, captured pages or a reused paper."""

    code: str
    name: str
    declared_pages: int
    pages: list[DraftPage] = field(default_factory=list)
    reuse_code: str | None = None
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # FieldValue.to_json() per name
    document_type: str = ""
    mismatch_reason: str | None = None
    result_code: str | None = None
    signed: bool = False
    flags: list[dict[str, str]] = field(default_factory=list)  # extraction flags (field, kind, message)
    extracted_from: list[str] = field(default_factory=list)  # page hashes the fields were read from

    @property
    def content_pages(self) -> int:
        """Pages counted against the declared count (blank backs and sticky-note re-captures excluded)."""
        return sum(1 for p in self.pages if p.counted)


@dataclass
class Draft:
    """A dossier being received; ``kind`` is ``officer`` or ``citizen``."""

    id: str
    kind: str
    created_by: str
    created_at: float
    owner_id: str = ""
    owner_kind: str = ""
    owner_name: str = ""
    owner_birth_date: str = ""
    owner_source: str = ""
    procedure_code: str = ""
    procedure_name: str = ""
    return_days: int = 0
    components: list[DraftComponent] = field(default_factory=list)
    state: str = "open"  # open | finalized
    dossier_code: str = ""
    received_at: str = ""
    return_date: str = ""
    signed_by: str = ""

    def component(self, code: str) -> DraftComponent:
        """The component ``code`` of this draft."""
        for c in self.components:
            if c.code == code:
                return c
        raise NotFoundError(f"component {code!r} is not part of this dossier")

    def to_json(self) -> dict[str, Any]:
        """Serialisable form."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        """Inverse of :meth:`to_json`."""
        comps = [DraftComponent(**{**c, "pages": [DraftPage(**p) for p in c["pages"]]}) for c in data["components"]]
        return cls(**{**data, "components": comps})


@dataclass(frozen=True, slots=True)
class CaptureFeedback:
    """What the officer sees after a capture: accepted or not, and why."""

    accepted: bool
    message: str
    remedy: str = ""
    dpi: float = 0.0
    blank: bool = False
    kind: str = "ok"  # ok | quality (below the capture rules) | unreadable | sticky | duplicate
    warnings: tuple[str, ...] = ()  # quality warnings (Vietnamese instructions) of an accepted page
    problems: tuple[str, ...] = ()  # a quality refusal's blocking problems (Vietnamese instructions)
    reason: str = ""  # an unreadable file's cause: too_large | too_many_pages | password | empty | format | corrupt
    side: str = "front"


def unreadable_reason(exc: SohoaError) -> str:
    """Why an image could not be read, as a key the kiosk words in Vietnamese."""
    text = exc.message
    if "password" in text:
        return "password"
    if "-page limit" in text:
        return "too_many_pages"
    if "-byte limit" in text or "pixel limit" in text or "too large" in text:
        return "too_large"
    if "file is empty" in text:
        return "empty"
    if "not an image" in text or "are not accepted" in text or "images; one page" in text:
        return "format"
    return "corrupt"


def _sticky_target(comp: DraftComponent, index: int | None) -> tuple[str | None, CaptureFeedback | None]:
    """The page a sticky-note capture belongs to (``index``, else the last page), or the refusal."""
    if index is None:
        originals = [p for p in comp.pages if p.sticky_of is None]
        chosen = originals[-1] if originals else None
    else:
        chosen = comp.pages[index] if 0 <= index < len(comp.pages) else None
    if chosen is None or chosen.sticky_of is not None:
        return None, CaptureFeedback(False, "a sticky-note capture needs the page captured first",
                                     "capture the page without its note, then again with it", kind="sticky")
    if any(p.sticky_of == chosen.sha256 for p in comp.pages):
        return None, CaptureFeedback(False, "this page already has its sticky-note capture",
                                     "retake that capture instead, or capture the next page first", kind="sticky")
    return chosen.sha256, None


def _atomic_write(path: Path, data: bytes) -> None:
    write_durable(path, data, 0o600)


class DraftStore:
    """Drafts under one folder; every change is written before the call returns."""

    def __init__(self, root: Path, capture: CaptureConfig | None = None) -> None:
        """``root`` is ``SOHOA_HOME/kiosk/drafts``; ``capture`` holds the quality rules."""
        self.root = root
        self.capture = capture or CaptureConfig()
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _dir(self, draft_id: str) -> Path:
        if not draft_id.isalnum() or len(draft_id) > 40:
            raise NotFoundError("no such dossier draft")
        return self.root / draft_id

    def create(self, kind: str, created_by: str) -> Draft:
        """A new empty draft."""
        d = Draft(id=secrets.token_hex(8), kind=kind, created_by=created_by, created_at=time.time())
        self._dir(d.id).mkdir(mode=0o700)
        self.save(d)
        return d

    def get(self, draft_id: str) -> Draft:
        """The draft ``draft_id``; :class:`NotFoundError` when absent."""
        path = self._dir(draft_id) / "draft.json"
        if not path.exists():
            raise NotFoundError("no such dossier draft", remedy="open the dossier again from the desk")
        return Draft.from_json(json.loads(path.read_text(encoding="utf-8")))

    def save(self, draft: Draft) -> None:
        """Persist ``draft`` atomically."""
        _atomic_write(self._dir(draft.id) / "draft.json",
                      json.dumps(draft.to_json(), ensure_ascii=False).encode("utf-8"))

    def list(self, kind: str | None = None, state: str | None = None) -> list[Draft]:
        """All drafts (newest first), optionally of one kind / state."""
        out = []
        for p in self.root.glob("*/draft.json"):
            d = Draft.from_json(json.loads(p.read_text(encoding="utf-8")))
            if (kind is None or d.kind == kind) and (state is None or d.state == state):
                out.append(d)
        return sorted(out, key=lambda d: d.created_at, reverse=True)

    def discard(self, draft_id: str) -> None:
        """Delete a draft that was never finalized (a citizen who walked away)."""
        d = self.get(draft_id)
        if d.state != "open":
            raise ValidationError("draft", "a finalized dossier cannot be discarded")
        shutil.rmtree(self._dir(draft_id))

    def purge_pages(self, draft: Draft) -> int:
        """Delete the page images of a finalized draft (the store holds them now); returns how many."""
        if draft.state != "finalized":
            raise ValidationError("draft", "only a finalized dossier's page images can be purged")
        n = 0
        for p in self._dir(draft.id).iterdir():
            if p.name != "draft.json":
                p.unlink()
                n += 1
        return n

    def page_bytes(self, draft: Draft, sha256: str) -> tuple[bytes, str]:
        """The stored bytes and media type of one page, re-checked against its hash."""
        for c in draft.components:
            for p in c.pages:
                if p.sha256 == sha256:
                    data = (self._dir(draft.id) / f"{p.sha256}{p.ext}").read_bytes()
                    if hashlib.sha256(data).hexdigest() != p.sha256:
                        raise InputError("a stored page image changed after capture", remedy="retake the page")
                    media = next(k for k, v in _EXT.items() if v == p.ext)
                    return data, media
        raise NotFoundError("no such page")

    def add_page(self, draft: Draft, component: str, data: bytes, *, sticky: bool = False,
                 replace_index: int | None = None, source: str = "camera", side: str | None = None,
                 sticky_index: int | None = None) -> CaptureFeedback:
        """Check one captured image against the capture rules and add (or swap in) the page.

        A refused image changes nothing and says why. With ``sticky`` the image re-captures a page
        with its sticky note: page ``sticky_index`` (0-based position in the strip), else the last
        page; with ``replace_index`` it retakes that page. ``source`` is ``camera``, ``scanner`` or
        ``upload``; ``side`` comes from a duplex scanner — otherwise a blank capture right after a
        page is taken as that page's blank back (shown, not counted).
        """
        comp = draft.component(component)
        label = f"page {len(comp.pages) + 1}"
        qc_source = "scanner" if source == "scanner" else "camera"
        try:
            page = load_page_image(data, name=label, config=self.capture, source=qc_source)
        except QualityError as exc:
            return CaptureFeedback(False, exc.message, exc.remedy or "", kind="quality",
                                   problems=self._refusal_problems(data, label, qc_source))
        except SohoaError as exc:  # unreadable, corrupt, truncated, oversized
            return CaptureFeedback(False, exc.message, exc.remedy or "", kind="unreadable",
                                   reason=unreadable_reason(exc))
        same = next((i for i, p in enumerate(comp.pages) if p.sha256 == page.sha256), None)
        if same is not None and same != replace_index and not page.blank:
            return CaptureFeedback(False, f"this image is identical to page image {same + 1} already captured",
                                   "turn to the next page (or retake that one) and capture again", kind="duplicate")
        sticky_of = None
        if sticky:
            sticky_of, refusal = _sticky_target(comp, sticky_index)
            if refusal is not None:
                return refusal
        given = side
        if side is None:
            side = "back" if page.blank and comp.pages and not sticky and replace_index is None else "front"
        ext = _EXT.get(page.media_type, ".png")
        target = self._dir(draft.id) / f"{page.sha256}{ext}"
        if not target.exists():
            _atomic_write(target, page.data)
        entry = DraftPage(page.sha256, ext, page.width, page.height, page.dpi, page.blank, sticky_of, side, source,
                          [kind for kind, _ in page.warnings])
        if replace_index is not None:
            if not 0 <= replace_index < len(comp.pages):
                raise NotFoundError("no such page to retake")
            entry.sticky_of = comp.pages[replace_index].sticky_of
            entry.side = given or comp.pages[replace_index].side
            comp.pages[replace_index] = entry
        else:
            comp.pages.append(entry)
        self.save(draft)
        note = "blank" if page.blank else "ok"
        return CaptureFeedback(True, note, dpi=page.dpi, blank=page.blank, side=entry.side,
                               warnings=tuple(message for _, message in page.warnings))

    def _refusal_problems(self, data: bytes, label: str, source: str) -> tuple[str, ...]:
        """The Vietnamese instructions of a refused page's blocking problems (empty if none apply)."""
        try:
            found = quality_report(data, name=label, config=self.capture, source=source)
        except SohoaError:
            return ()
        out = []
        for p in blocking(found):
            if p.kind == "lowres" and p.value >= 30:  # the dpi rule (glyph heights are a few pixels)
                out.append(f"{p.message}: {p.value:.0f} dpi, cần ít nhất {self.capture.min_dpi:.0f} dpi")
            else:
                out.append(p.message)
        return tuple(dict.fromkeys(out))

    def move_page(self, draft: Draft, component: str, index: int, delta: int) -> None:
        """Move page ``index`` up (-1) or down (+1)."""
        pages = draft.component(component).pages
        j = index + delta
        if not (0 <= index < len(pages) and 0 <= j < len(pages)):
            raise NotFoundError("no such page position")
        pages[index], pages[j] = pages[j], pages[index]
        self.save(draft)

    def delete_page(self, draft: Draft, component: str, index: int) -> None:
        """Remove page ``index`` (its sticky-note re-captures go with it)."""
        pages = draft.component(component).pages
        if not 0 <= index < len(pages):
            raise NotFoundError("no such page")
        gone = pages.pop(index)
        pages[:] = [p for p in pages if p.sticky_of != gone.sha256]
        self.save(draft)
