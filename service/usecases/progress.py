"""The one progress-callback type of long steps (OCR, finalize, self-test) shown by the kiosk's job page."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: ``step`` is a message key (translated by the UI), ``done`` of ``total`` units."""
