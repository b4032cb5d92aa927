"""Low-level wire helpers of protocol ``sohoa/v1`` (pure): limits, patterns, JSON and field checks."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from service.domain.errors import SyncError

CT_JSON = "application/json"
CT_CHUNK = "application/octet-stream"

MAX_JSON_BYTES = 64 * 1024
MAX_CHUNK_BYTES = 1024 * 1024
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_METADATA_KEYS = 64
MAX_TEXT = 1000

DEVICE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
PROVINCE_RE = re.compile(r"^[0-9]{2}$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
DOC_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
META_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
STAMP_RE = re.compile(r"^[0-9]{14}$")  # yyyyMMddHHmmss, as the national portal uses
SEQ_RE = re.compile(r"[0-9]{1,7}")  # ASCII digits only: str.isdigit() also accepts "²"
OWNER_RE = re.compile(r"[0-9A-Za-z-]{1,20}")  # CCCD / tax code
# Every identifier is matched whole with ``fullmatch`` ("$" alone accepts a trailing newline).


def storable_text(value: str) -> bool:
    """True if PostgreSQL can store ``value`` as text/jsonb: no NUL, no lone surrogate (valid UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class ProtocolError(SyncError):
    """A message breaks the wire protocol; ``reason`` is a short, log-safe code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"protocol violation: {reason}{': ' + detail if detail else ''}",
                         remedy="check the sender's protocol version (docs/sync-protocol.md)")
        self.reason = reason


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def load_json(payload: bytes) -> dict[str, Any]:
    """Decode a JSON object payload within the size limit."""
    if len(payload) > MAX_JSON_BYTES:
        raise ProtocolError("oversized", f"{len(payload)} bytes > {MAX_JSON_BYTES}")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise ProtocolError("not-json") from exc
    if not isinstance(data, dict):
        raise ProtocolError("not-an-object")
    return data


def dump_json(data: dict[str, Any]) -> bytes:
    """Canonical compact UTF-8 JSON (sorted keys) of a message."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def opt_str(data: dict[str, Any], key: str, *, pattern: re.Pattern[str] | None = None, required: bool = True,
            max_len: int = MAX_TEXT) -> str | None:
    """A string field (storable, bounded, matching ``pattern`` whole); None if absent and not ``required``."""
    value = data.get(key)
    if value is None:
        if required:
            raise ProtocolError("missing-field", key)
        return None
    if not isinstance(value, str) or len(value) > max_len or not storable_text(value) or (
            pattern is not None and not pattern.fullmatch(value)):
        raise ProtocolError("bad-field", key)
    return value


def req_int(data: dict[str, Any], key: str, lo: int, hi: int) -> int:
    """A required integer field within ``[lo, hi]`` (booleans refused)."""
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ProtocolError("bad-field", key)
    return value


def req_str(data: dict[str, Any], key: str, *, pattern: re.Pattern[str] | None = None,
            max_len: int = MAX_TEXT) -> str:
    """A required string field (see :func:`opt_str`)."""
    value = opt_str(data, key, pattern=pattern, max_len=max_len)
    assert value is not None
    return value
