"""The page source the capture stage reads (:class:`PageSource`), and a simulated camera that reads image files.

Real drivers live in ``firmware/camera`` (their own ``Camera`` protocol gives frames; the desk
camera, :class:`service.desk.camera.DeskCamera`, turns their stills into page images).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from service.capture.rules import RawPage
from service.domain.errors import DeviceError, InputError


@runtime_checkable
class PageSource(Protocol):
    """Anything that returns one encoded page image per :meth:`capture` call."""

    def capture(self) -> RawPage:
        """Take one picture; raise :class:`DeviceError` when the device cannot."""
        ...


class FileCamera:
    """A simulated camera: returns the given image files in order, one per capture."""

    def __init__(self, files: Sequence[Path]) -> None:
        """Prepare to return ``files`` in the given order."""
        self._files = list(files)
        self._next = 0

    @property
    def remaining(self) -> int:
        """How many captures are left."""
        return len(self._files) - self._next

    def capture(self) -> RawPage:
        """Read the next file; :class:`InputError` if it cannot be read, :class:`DeviceError` when none remain."""
        if self._next >= len(self._files):
            raise DeviceError("the simulated camera has no more images", remedy="give more page image files")
        index = self._next
        path = self._files[index]
        self._next += 1
        label = f"page {index + 1}"
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise InputError(f"{label}: file does not exist", remedy="check the path of the page image") from exc
        except IsADirectoryError as exc:
            raise InputError(f"{label}: is a folder, not an image file", remedy="give image files") from exc
        except OSError as exc:
            raise InputError(f"{label}: cannot be read ({exc.strerror})",
                             remedy="check the file's permissions") from exc
        return RawPage(data=data, label=label)


def capture_all(camera: PageSource, count: int) -> list[RawPage]:
    """Take ``count`` pictures in order."""
    return [camera.capture() for _ in range(count)]
