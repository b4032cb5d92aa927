"""Integrity checks a full decode alone does not make: PNG chunk CRCs and zlib stream, JPEG end marker,
and an implausible decode (the page came out as one flat dark value).

Pillow decodes a PNG whose IDAT is damaged without complaint when the damage still inflates, and a
JPEG cut short is padded silently; these checks refuse such files before a page is accepted.
Pure functions over bytes and decoded pixels; each failure is an :class:`InputError` (exit 3).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from PIL import Image

from service.domain.errors import InputError

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_REMEDY = "capture or copy the page image again (the file is damaged)"
#: A page whose most common grey value covers this share of the image and is (near) black decoded
#: implausibly: damaged image data decodes as black; coloured paper is lighter than this.
FLAT_SHARE = 0.9
FLAT_BLACK_MAX = 24
_PROBE = 400


def check_png(data: bytes, name: str) -> None:
    """Every chunk's CRC, the IDAT zlib stream (checksum, completeness) and the IEND chunk."""
    if not data.startswith(_PNG_MAGIC):
        return
    pos, idat, seen_end = len(_PNG_MAGIC), [], False
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body_end = pos + 8 + length
        if body_end + 4 > len(data):
            raise InputError(f"{name}: image is corrupt or truncated (PNG chunk {ctype.decode('latin-1')!r} cut short)",
                             remedy=_REMEDY)
        crc = struct.unpack(">I", data[body_end:body_end + 4])[0]
        if zlib.crc32(data[pos + 4:body_end]) & 0xFFFFFFFF != crc:
            raise InputError(f"{name}: image is corrupt or truncated (PNG chunk {ctype.decode('latin-1')!r} "
                             "fails its CRC check)",
                             remedy=_REMEDY)
        if ctype == b"IDAT":
            idat.append(data[pos + 8:body_end])
        pos = body_end + 4
        if ctype == b"IEND":
            seen_end = True
            break
    if not seen_end:
        raise InputError(f"{name}: image is corrupt or truncated (PNG has no IEND chunk)", remedy=_REMEDY)
    inflater = zlib.decompressobj()
    try:
        for part in idat:
            inflater.decompress(part, 0)
            while inflater.unconsumed_tail:
                inflater.decompress(inflater.unconsumed_tail, 0)
        inflater.flush()
    except zlib.error as exc:
        raise InputError(f"{name}: image is corrupt or truncated (PNG image data is damaged, zlib: {exc})",
                         remedy=_REMEDY) from exc
    if not inflater.eof:
        raise InputError(f"{name}: image is corrupt or truncated (PNG image data incomplete)", remedy=_REMEDY)


def check_jpeg(data: bytes, name: str) -> None:
    """A JPEG must end with its EOI marker (trailing padding allowed): otherwise it was cut short."""
    if not data.startswith(b"\xff\xd8"):
        return
    tail = data.rstrip(b"\x00\n\r ")
    if not tail.endswith(b"\xff\xd9"):
        raise InputError(f"{name}: image is corrupt or truncated (JPEG has no end-of-image marker)", remedy=_REMEDY)


def check_plausible(img: Image.Image, name: str, *, grey: Image.Image | None = None) -> None:
    """Refuse a decode that is mostly one flat black tone (what damaged image data looks like).

    ``grey`` is ``img.convert("L")`` when the caller already made it.
    """
    grey = grey if grey is not None else img.convert("L")
    if grey.width > _PROBE:
        grey = grey.resize((_PROBE, max(1, grey.height * _PROBE // grey.width)), Image.Resampling.NEAREST)
    arr = np.asarray(grey, dtype=np.uint8)
    counts = np.bincount(arr.ravel(), minlength=256)
    value = int(counts.argmax())
    share = float(counts[value]) / float(arr.size)
    if share >= FLAT_SHARE and value <= FLAT_BLACK_MAX:
        raise InputError(f"{name}: image is implausible: it decodes to one flat black tone over {share:.0%} "
                         "of the page "
                         "(damaged data or a covered lens)", remedy=_REMEDY)


def to_8bit(img: Image.Image) -> Image.Image:
    """A 16-bit (or 32-bit integer) grey scan scaled to 8-bit grey; other images unchanged."""
    if img.mode not in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        return img
    arr = np.asarray(img)
    top = 65535 if img.mode.startswith("I;16") or int(arr.max(initial=0)) > 255 else 255
    scaled = (arr.astype(np.float64) * (255.0 / top)).round().clip(0, 255).astype(np.uint8)
    out = Image.fromarray(scaled, mode="L")
    out.info.update({k: v for k, v in img.info.items() if k == "dpi"})
    return out
