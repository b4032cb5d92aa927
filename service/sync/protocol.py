"""Wire protocol ``sohoa/v1`` between a device and the province gateway (pure: no I/O).

See ``docs/sync-protocol.md`` for the prose version. Everything that crosses the wire is
parsed here into frozen dataclasses; anything malformed raises :class:`ProtocolError`
with a short reason that is safe to log (it never echoes payload values).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from service.sync.reuse_msgs import (  # noqa: F401 - re-exported: one import for the whole protocol
    FOUND,
    NOT_AUTHORISED,
    NOT_FOUND,
    RATE_LIMITED,
    REUSE_ORDER,
    REUSE_REQ_SCHEMA,
    REUSE_RESP_SCHEMA,
    ReuseAnswer,
    ReuseHit,
    ReuseQuery,
    ReuseSource,
)
from service.sync.wire import (  # noqa: F401 - re-exported
    CT_CHUNK,
    CT_JSON,
    DEVICE_RE,
    DOC_ID_RE,
    MAX_CHUNK_BYTES,
    MAX_FILE_BYTES,
    MAX_JSON_BYTES,
    MAX_METADATA_KEYS,
    MAX_TEXT,
    META_KEY_RE,
    OWNER_RE,
    PROVINCE_RE,
    SEQ_RE,
    SHA_RE,
    STAMP_RE,
    ProtocolError,
    dump_json,
    load_json,
    opt_str,
    req_int,
    req_str,
    sha256_hex,
    storable_text,
)

VERSION = "v1"
ROOT = "sohoa"
MANIFEST_SCHEMA = "sohoa.manifest/1"
ACK_SCHEMA = "sohoa.ack/1"
STATUS_SCHEMA = "sohoa.status/1"
TELEMETRY_SCHEMA = "sohoa.telemetry/1"


class Kind(StrEnum):
    """Last topic level: what a message is. ``up`` goes device→gateway, ``down`` the reverse."""

    MANIFEST = "manifest"
    CHUNK = "chunk"
    REUSE_REQ = "reuse"
    STATUS = "status"
    TELEMETRY = "telemetry"
    ACK = "ack"
    REUSE_RESP = "reuse-result"


UP_KINDS = frozenset({Kind.MANIFEST, Kind.CHUNK, Kind.REUSE_REQ, Kind.STATUS, Kind.TELEMETRY})
DOWN_KINDS = frozenset({Kind.ACK, Kind.REUSE_RESP})


def topic(province: str, device: str, kind: Kind) -> str:
    """The topic of ``kind`` for one device: ``sohoa/v1/{province}/{device}/{up|down}/{kind}``."""
    direction = "up" if kind in UP_KINDS else "down"
    return f"{ROOT}/{VERSION}/{province}/{device}/{direction}/{kind.value}"


def device_subscription(province: str, device: str) -> str:
    """What a device subscribes to: everything addressed to it."""
    return f"{ROOT}/{VERSION}/{province}/{device}/down/#"


def gateway_subscription(group: str = "gw", province: str = "+") -> str:
    """The shared subscription gateway replicas use to split the device uplink between them."""
    return f"$share/{group}/{ROOT}/{VERSION}/{province}/+/up/#"


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """A parsed topic."""

    province: str
    device: str
    direction: str
    kind: Kind


def parse_topic(name: str) -> TopicInfo:
    """Parse and validate a ``sohoa/v1/...`` topic."""
    parts = name.split("/")
    if len(parts) != 6 or parts[0] != ROOT:
        raise ProtocolError("bad-topic")
    if parts[1] != VERSION:
        raise ProtocolError("unsupported-version")
    _, _, province, device, direction, kind_s = parts
    if not PROVINCE_RE.fullmatch(province) or not DEVICE_RE.fullmatch(device) or direction not in ("up", "down"):
        raise ProtocolError("bad-topic")
    try:
        kind = Kind(kind_s)
    except ValueError as exc:
        raise ProtocolError("unknown-kind") from exc
    if (direction == "up") != (kind in UP_KINDS):
        raise ProtocolError("bad-topic")
    return TopicInfo(province, device, direction, kind)


def chunk_count(size: int, chunk_size: int) -> int:
    """How many chunks a file of ``size`` bytes has (an empty file still has one, empty)."""
    return max(1, -(-size // chunk_size))


@dataclass(frozen=True, slots=True)
class FileRef:
    """The document's file (``TepDinhKem``): name, type, size, whole-file SHA-256, chunking."""

    name: str  # TenTep
    media_type: str  # LoaiTep
    size: int  # KichThuoc
    sha256: str  # MaBam (SHA-256 hex)
    chunk_size: int  # KichThuocManh
    link: str | None = None  # DuongDan: where the province may already hold it (reuse)

    @property
    def chunks(self) -> int:
        """Number of chunks (``SoManh``)."""
        return chunk_count(self.size, self.chunk_size)

    def expected_length(self, seq: int) -> int:
        """Exact byte length chunk ``seq`` must have."""
        if seq < self.chunks - 1:
            return self.chunk_size
        return self.size - (self.chunks - 1) * self.chunk_size

    def to_json(self) -> dict[str, Any]:
        """Wire form."""
        out: dict[str, Any] = {"TenTep": self.name, "LoaiTep": self.media_type, "KichThuoc": self.size,
                               "MaBam": self.sha256, "KichThuocManh": self.chunk_size, "SoManh": self.chunks}
        if self.link:
            out["DuongDan"] = self.link
        return out

    @classmethod
    def from_json(cls, data: Any) -> FileRef:
        """Parse and validate (chunk count must agree with size and chunk size)."""
        if not isinstance(data, dict):
            raise ProtocolError("bad-field", "TepDinhKem")
        ref = cls(name=req_str(data, "TenTep", max_len=255),
                  media_type=req_str(data, "LoaiTep", max_len=100),
                  size=req_int(data, "KichThuoc", 0, MAX_FILE_BYTES),
                  sha256=req_str(data, "MaBam", pattern=SHA_RE),
                  chunk_size=req_int(data, "KichThuocManh", 1024, MAX_CHUNK_BYTES),
                  link=opt_str(data, "DuongDan", required=False))
        if req_int(data, "SoManh", 1, 1 << 20) != ref.chunks:
            raise ProtocolError("bad-field", "SoManh")
        return ref


@dataclass(frozen=True, slots=True)
class Manifest:
    """One document version as announced by a device (metadata first, file after).

    Field names follow what provincial systems send to the national portal (docs/REGULATION.md §12):
    ``GiayToId`` (document id), ``TenGiayTo`` (document name), ``MaGiayToKetQua`` (result code),
    ``SoKyHieu``, ``MaTTHC``, ``MaHoSo``, ``LoaiSoHoa``, ``TepDinhKem`` (file or link) and
    ``ThongTinMoTa`` (descriptive metadata with NĐ 30/2020 Phụ lục VI names).
    """

    document_id: str
    device_id: str
    province: str
    name: str
    file: FileRef
    created: str
    result_code: str | None = None
    number_symbol: str | None = None
    procedure_code: str | None = None
    dossier_code: str | None = None
    kind: str = "1"  # LoaiSoHoa: "0" dossier component, "1" result
    metadata: dict[str, str | int] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        """The SHA-256 that identifies this document version (its PDF)."""
        return self.file.sha256

    def to_json(self) -> dict[str, Any]:
        """Wire form."""
        out: dict[str, Any] = {
            "schema": MANIFEST_SCHEMA, "GiayToId": self.document_id, "MaThietBi": self.device_id,
            "MaTinh": self.province, "TenGiayTo": self.name, "TepDinhKem": self.file.to_json(),
            "ThoiDiemTao": self.created, "LoaiSoHoa": self.kind, "ThongTinMoTa": dict(self.metadata),
        }
        for key, value in (("MaGiayToKetQua", self.result_code), ("SoKyHieu", self.number_symbol),
                           ("MaTTHC", self.procedure_code), ("MaHoSo", self.dossier_code)):
            if value is not None:
                out[key] = value
        return out

    def encode(self) -> bytes:
        """Payload bytes."""
        return dump_json(self.to_json())

    @classmethod
    def decode(cls, payload: bytes) -> Manifest:
        """Parse and validate a manifest payload."""
        data = load_json(payload)
        if data.get("schema") != MANIFEST_SCHEMA:
            raise ProtocolError("bad-schema")
        meta = data.get("ThongTinMoTa", {})
        if not isinstance(meta, dict) or len(meta) > MAX_METADATA_KEYS:
            raise ProtocolError("bad-field", "ThongTinMoTa")
        for key, value in meta.items():
            ok_value = (isinstance(value, str) and len(value) <= MAX_TEXT and storable_text(value)) or (
                isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53)
            if not isinstance(key, str) or not META_KEY_RE.fullmatch(key) or not ok_value:
                raise ProtocolError("bad-field", "ThongTinMoTa")
        kind = req_str(data, "LoaiSoHoa", max_len=1)
        if kind not in ("0", "1"):
            raise ProtocolError("bad-field", "LoaiSoHoa")
        return cls(document_id=req_str(data, "GiayToId", pattern=DOC_ID_RE),
                   device_id=req_str(data, "MaThietBi", pattern=DEVICE_RE),
                   province=req_str(data, "MaTinh", pattern=PROVINCE_RE),
                   name=req_str(data, "TenGiayTo", max_len=500),
                   file=FileRef.from_json(data.get("TepDinhKem")),
                   created=req_str(data, "ThoiDiemTao", pattern=STAMP_RE),
                   result_code=opt_str(data, "MaGiayToKetQua", required=False, max_len=64),
                   number_symbol=opt_str(data, "SoKyHieu", required=False, max_len=64),
                   procedure_code=opt_str(data, "MaTTHC", required=False, max_len=64),
                   dossier_code=opt_str(data, "MaHoSo", required=False, max_len=64),
                   kind=kind, metadata=dict(meta))


@dataclass(frozen=True, slots=True)
class ChunkHeader:
    """MQTT 5 user properties of a chunk message; the payload is the raw bytes."""

    document_id: str
    file_sha256: str
    seq: int
    chunk_sha256: str

    def to_properties(self) -> list[tuple[str, str]]:
        """User-property pairs."""
        return [("doc", self.document_id), ("file", self.file_sha256), ("seq", str(self.seq)),
                ("sha256", self.chunk_sha256)]

    @classmethod
    def from_properties(cls, props: list[tuple[str, str]] | None) -> ChunkHeader:
        """Parse user properties (each key exactly once)."""
        seen: dict[str, str] = {}
        for key, value in props or []:
            if key in seen:
                raise ProtocolError("bad-chunk-header", f"duplicate {key}")
            seen[key] = value
        doc = seen.get("doc", "")
        file_sha = seen.get("file", "")
        seq_s = seen.get("seq", "")
        chunk_sha = seen.get("sha256", "")
        if not DOC_ID_RE.fullmatch(doc) or not SHA_RE.fullmatch(file_sha) or not SHA_RE.fullmatch(chunk_sha):
            raise ProtocolError("bad-chunk-header")
        if not SEQ_RE.fullmatch(seq_s):
            raise ProtocolError("bad-chunk-header", "seq")
        return cls(doc, file_sha, int(seq_s), chunk_sha)


class AckStatus(StrEnum):
    """What the gateway says about one document version."""

    NEED = "need"  # manifest recorded; send these chunks
    STORED = "stored"  # delivered: file verified and stored (idempotent: also for repeats)
    REJECTED = "rejected"  # permanently refused (reason given); the device keeps its copy
    LATER = "later"  # not now (per-device quota of open transfers): retry with back-off


@dataclass(frozen=True, slots=True)
class Ack:
    """Application-level answer from the gateway; only ``stored`` means delivered."""

    document_id: str
    sha256: str
    status: AckStatus
    need: tuple[int, ...] = ()
    reason: str | None = None
    receipt: str | None = None  # MaGiayToKhoTinh: the gateway's id for the stored version
    more: int = 0  # ConThieu: missing chunks left out of a capped ``need`` list (ask again after sending)

    def encode(self) -> bytes:
        """Payload bytes."""
        out: dict[str, Any] = {"schema": ACK_SCHEMA, "GiayToId": self.document_id, "MaBam": self.sha256,
                               "TrangThai": self.status.value}
        if self.status is AckStatus.NEED:
            out["CanGui"] = list(self.need)
            if self.more:
                out["ConThieu"] = self.more
        if self.reason:
            out["LyDo"] = self.reason
        if self.receipt:
            out["MaGiayToKhoTinh"] = self.receipt
        return dump_json(out)

    @classmethod
    def decode(cls, payload: bytes) -> Ack:
        """Parse and validate an ack payload."""
        data = load_json(payload)
        if data.get("schema") != ACK_SCHEMA:
            raise ProtocolError("bad-schema")
        try:
            status = AckStatus(str(data.get("TrangThai")))
        except ValueError as exc:
            raise ProtocolError("bad-field", "TrangThai") from exc
        need_raw = data.get("CanGui", [])
        if not isinstance(need_raw, list) or not all(isinstance(n, int) and n >= 0 for n in need_raw):
            raise ProtocolError("bad-field", "CanGui")
        more = data.get("ConThieu", 0)
        if not isinstance(more, int) or isinstance(more, bool) or not 0 <= more <= 1 << 20:
            raise ProtocolError("bad-field", "ConThieu")
        return cls(document_id=req_str(data, "GiayToId", pattern=DOC_ID_RE),
                   sha256=req_str(data, "MaBam", pattern=SHA_RE), status=status, need=tuple(need_raw),
                   reason=opt_str(data, "LyDo", required=False, max_len=200),
                   receipt=opt_str(data, "MaGiayToKhoTinh", required=False, max_len=128), more=more)


def status_payload(device: str, state: str, **extra: Any) -> bytes:
    """Retained device status (``online`` on connect, ``offline`` as the last will)."""
    return dump_json({"schema": STATUS_SCHEMA, "MaThietBi": device, "TrangThai": state, **extra})


#: The box's health in each telemetry message (docs/sync-protocol.md). The province's web view reads
#: these exact keys: never rename them. A key whose value is unknown is left out (``cpu_temp_c`` with no
#: thermal zone, ``last_sync_success_ts`` before the first ack, ``oldest_queued_age_s`` with an empty queue).
HEALTH_INT_KEYS = ("disk_free_bytes", "last_sync_success_ts", "queue")  # integers >= 0 (unix seconds, bytes)
HEALTH_FLOAT_KEYS = ("cpu_temp_c", "oldest_queued_age_s")  # finite numbers: °C in -50..200, seconds >= 0
SOFTWARE_VERSION_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]{0,39}")
_MODEL = r"[a-z0-9][a-z0-9._-]{0,39}@[0-9a-f]{8}"
MODEL_VERSIONS_RE = re.compile(rf"{_MODEL}(;{_MODEL})*")  # "name@sha8;name@sha8", at most 200 characters
HEALTH_TEXT_KEYS = {"software_version": SOFTWARE_VERSION_RE, "model_versions": MODEL_VERSIONS_RE}
HEALTH_TEXT_MAX = 200


def telemetry_payload(device: str, **values: int | float | str) -> bytes:
    """Periodic telemetry (counts, the audit head and the health keys above; never personal data)."""
    return dump_json({"schema": TELEMETRY_SCHEMA, "MaThietBi": device, **values})
