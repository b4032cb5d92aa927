"""OCR time per page, noted when a page is read and written to the store with the document it belongs to.

:func:`note` is called by the OCR step (``procedure.read_page``); :func:`take` by the step that
stores the document, which persists the durations (``Store.record_ocr_seconds``) so that the
``sohoa_ocr_seconds`` histogram of any process's scrape counts them. Pages read but never stored
(an abandoned capture, ``sohoa ocr``) are not counted; the notes are bounded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

_MAX = 256
_seconds: OrderedDict[str, float] = OrderedDict()
_lock = threading.Lock()


def note(sha256: str, seconds: float) -> None:
    """Remember how long page ``sha256`` took to read."""
    with _lock:
        _seconds[sha256] = seconds
        while len(_seconds) > _MAX:
            _seconds.popitem(last=False)


def take(sha256s: Iterable[str]) -> list[float]:
    """The noted durations of these pages (each handed out once)."""
    with _lock:
        return [s for s in (_seconds.pop(h, None) for h in sha256s) if s is not None]
