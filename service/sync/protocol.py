"""Wire protocol ``sohoa/v1`` between a device and the province gateway (pure: no I/O).

See ``docs/sync-protocol.md`` for the prose version. Everything that crosses the wire is
parsed here into frozen dataclasses; anything malformed raises :class:`ProtocolError`
with a short reason that is safe to log (it never echoes payload values).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from service.domain.errors import SyncError

VERSION = "v1"
ROOT = "sohoa"
MANIFEST_SCHEMA = "sohoa.manifest/1"
ACK_SCHEMA = "sohoa.ack/1"
REUSE_REQ_SCHEMA = "sohoa.reuse-request/1"
REUSE_RESP_SCHEMA = "sohoa.reuse-response/1"
STATUS_SCHEMA = "sohoa.status/1"
TELEMETRY_SCHEMA = "sohoa.telemetry/1"

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


class ProtocolError(SyncError):
    """A message breaks the wire protocol; ``reason`` is a short, log-safe code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"protocol violation: {reason}{': ' + detail if detail else ''}",
                         remedy="check the sender's protocol version (docs/sync-protocol.md)")
        self.reason = reason


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
    if not PROVINCE_RE.match(province) or not DEVICE_RE.match(device) or direction not in ("up", "down"):
        raise ProtocolError("bad-topic")
    try:
        kind = Kind(kind_s)
    except ValueError as exc:
        raise ProtocolError("unknown-kind") from exc
    if (direction == "up") != (kind in UP_KINDS):
        raise ProtocolError("bad-topic")
    return TopicInfo(province, device, direction, kind)


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def load_json(payload: bytes) -> dict[str, Any]:
    """Decode a JSON object payload within the size limit."""
    if len(payload) > MAX_JSON_BYTES:
        raise ProtocolError("oversized", f"{len(payload)} bytes > {MAX_JSON_BYTES}")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError("not-json") from exc
    if not isinstance(data, dict):
        raise ProtocolError("not-an-object")
    return data


def dump_json(data: dict[str, Any]) -> bytes:
    """Canonical compact UTF-8 JSON (sorted keys) of a message."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _str(data: dict[str, Any], key: str, *, pattern: re.Pattern[str] | None = None, required: bool = True,
         max_len: int = MAX_TEXT) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise ProtocolError("missing-field", key)
        return None
    if not isinstance(value, str) or len(value) > max_len or (pattern is not None and not pattern.match(value)):
        raise ProtocolError("bad-field", key)
    return value


def _int(data: dict[str, Any], key: str, lo: int, hi: int) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ProtocolError("bad-field", key)
    return value


def _req_str(data: dict[str, Any], key: str, *, pattern: re.Pattern[str] | None = None, max_len: int = MAX_TEXT) -> str:
    value = _str(data, key, pattern=pattern, max_len=max_len)
    assert value is not None
    return value


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
        ref = cls(name=_req_str(data, "TenTep", max_len=255),
                  media_type=_req_str(data, "LoaiTep", max_len=100),
                  size=_int(data, "KichThuoc", 0, MAX_FILE_BYTES),
                  sha256=_req_str(data, "MaBam", pattern=SHA_RE),
                  chunk_size=_int(data, "KichThuocManh", 1024, MAX_CHUNK_BYTES),
                  link=_str(data, "DuongDan", required=False))
        if _int(data, "SoManh", 1, 1 << 20) != ref.chunks:
            raise ProtocolError("bad-field", "SoManh")
        return ref


@dataclass(frozen=True, slots=True)
class Manifest:
    """One document version as announced by a device (metadata first, file after).

    Field names follow what provincial systems send to the national portal (FACTS §7):
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
            ok_value = (isinstance(value, str) and len(value) <= MAX_TEXT) or (
                isinstance(value, int) and not isinstance(value, bool))
            if not META_KEY_RE.match(key) or not ok_value:
                raise ProtocolError("bad-field", "ThongTinMoTa")
        kind = _req_str(data, "LoaiSoHoa", max_len=1)
        if kind not in ("0", "1"):
            raise ProtocolError("bad-field", "LoaiSoHoa")
        return cls(document_id=_req_str(data, "GiayToId", pattern=DOC_ID_RE),
                   device_id=_req_str(data, "MaThietBi", pattern=DEVICE_RE),
                   province=_req_str(data, "MaTinh", pattern=PROVINCE_RE),
                   name=_req_str(data, "TenGiayTo", max_len=500),
                   file=FileRef.from_json(data.get("TepDinhKem")),
                   created=_req_str(data, "ThoiDiemTao", pattern=STAMP_RE),
                   result_code=_str(data, "MaGiayToKetQua", required=False, max_len=64),
                   number_symbol=_str(data, "SoKyHieu", required=False, max_len=64),
                   procedure_code=_str(data, "MaTTHC", required=False, max_len=64),
                   dossier_code=_str(data, "MaHoSo", required=False, max_len=64),
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
        if not DOC_ID_RE.match(doc) or not SHA_RE.match(file_sha) or not SHA_RE.match(chunk_sha):
            raise ProtocolError("bad-chunk-header")
        if not seq_s.isdigit() or len(seq_s) > 7:
            raise ProtocolError("bad-chunk-header", "seq")
        return cls(doc, file_sha, int(seq_s), chunk_sha)


class AckStatus(StrEnum):
    """What the gateway says about one document version."""

    NEED = "need"  # manifest recorded; send these chunks
    STORED = "stored"  # delivered: file verified and stored (idempotent: also for repeats)
    REJECTED = "rejected"  # permanently refused (reason given); the device keeps its copy


@dataclass(frozen=True, slots=True)
class Ack:
    """Application-level answer from the gateway; only ``stored`` means delivered."""

    document_id: str
    sha256: str
    status: AckStatus
    need: tuple[int, ...] = ()
    reason: str | None = None
    receipt: str | None = None  # MaGiayToKhoTinh: the gateway's id for the stored version

    def encode(self) -> bytes:
        """Payload bytes."""
        out: dict[str, Any] = {"schema": ACK_SCHEMA, "GiayToId": self.document_id, "MaBam": self.sha256,
                               "TrangThai": self.status.value}
        if self.status is AckStatus.NEED:
            out["CanGui"] = list(self.need)
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
        return cls(document_id=_req_str(data, "GiayToId", pattern=DOC_ID_RE),
                   sha256=_req_str(data, "MaBam", pattern=SHA_RE), status=status, need=tuple(need_raw),
                   reason=_str(data, "LyDo", required=False, max_len=200),
                   receipt=_str(data, "MaGiayToKhoTinh", required=False, max_len=128))


class ReuseSource(StrEnum):
    """Art. 25.3 look-up order: own store, then bilateral systems, then the national portal."""

    PROVINCE = "kho-tinh"
    BILATERAL = "song-phuong"
    NATIONAL = "cong-dvc-quoc-gia"


REUSE_ORDER: tuple[ReuseSource, ...] = (ReuseSource.PROVINCE, ReuseSource.BILATERAL, ReuseSource.NATIONAL)


@dataclass(frozen=True, slots=True)
class ReuseQuery:
    """Reuse look-up (names from the DVCQG digitized store, FACTS §7.2)."""

    procedure_code: str  # MaThuTuc
    results: tuple[tuple[str, str | None], ...]  # DanhSachDanhMucKetQua: (MaKetQua, SoKyHieu)
    owner_id: str | None = None  # SoDinhDanhChuSoHuu (personal data: never logged)

    def encode(self) -> bytes:
        """Payload bytes."""
        out: dict[str, Any] = {"schema": REUSE_REQ_SCHEMA, "MaThuTuc": self.procedure_code,
                               "DanhSachDanhMucKetQua": [{"MaKetQua": c, "SoKyHieu": s} for c, s in self.results]}
        if self.owner_id:
            out["SoDinhDanhChuSoHuu"] = self.owner_id
        return dump_json(out)

    @classmethod
    def decode(cls, payload: bytes) -> ReuseQuery:
        """Parse and validate a look-up request."""
        data = load_json(payload)
        if data.get("schema") != REUSE_REQ_SCHEMA:
            raise ProtocolError("bad-schema")
        items = data.get("DanhSachDanhMucKetQua")
        if not isinstance(items, list) or not 1 <= len(items) <= 50:
            raise ProtocolError("bad-field", "DanhSachDanhMucKetQua")
        results = []
        for item in items:
            if not isinstance(item, dict):
                raise ProtocolError("bad-field", "DanhSachDanhMucKetQua")
            results.append((_req_str(item, "MaKetQua", max_len=64), _str(item, "SoKyHieu", required=False, max_len=64)))
        return cls(procedure_code=_req_str(data, "MaThuTuc", max_len=64), results=tuple(results),
                   owner_id=_str(data, "SoDinhDanhChuSoHuu", required=False, max_len=20))


@dataclass(frozen=True, slots=True)
class ReuseHit:
    """One found result paper (``DanhSachGiayToKetQua`` item)."""

    result_code: str  # MaKetQua
    name: str  # TenGiayTo
    number_symbol: str | None  # SoKyHieu
    agency: str  # CoQuanChuQuan
    files: tuple[tuple[str, str], ...]  # DanhSachTepDinhKem: (TenTep, DuongDan)
    source: ReuseSource

    def to_json(self) -> dict[str, Any]:
        """Wire form."""
        return {"MaKetQua": self.result_code, "TenGiayTo": self.name, "SoKyHieu": self.number_symbol,
                "CoQuanChuQuan": self.agency, "Nguon": self.source.value,
                "DanhSachTepDinhKem": [{"TenTep": n, "DuongDan": p} for n, p in self.files]}


@dataclass(frozen=True, slots=True)
class ReuseAnswer:
    """Look-up response: hits plus the sources consulted, in order."""

    hits: tuple[ReuseHit, ...]
    consulted: tuple[ReuseSource, ...]
    error_code: int = 0
    message: str = ""

    def encode(self) -> bytes:
        """Payload bytes."""
        return dump_json({"schema": REUSE_RESP_SCHEMA, "errorCode": self.error_code, "message": self.message,
                          "NguonDaTraCuu": [s.value for s in self.consulted],
                          "result": {"DanhSachGiayToKetQua": [h.to_json() for h in self.hits]}})

    @classmethod
    def decode(cls, payload: bytes) -> ReuseAnswer:
        """Parse a look-up response."""
        data = load_json(payload)
        if data.get("schema") != REUSE_RESP_SCHEMA:
            raise ProtocolError("bad-schema")
        try:
            consulted = tuple(ReuseSource(s) for s in data.get("NguonDaTraCuu", []))
            hits = tuple(
                ReuseHit(result_code=str(h["MaKetQua"]), name=str(h["TenGiayTo"]), number_symbol=h.get("SoKyHieu"),
                         agency=str(h["CoQuanChuQuan"]), source=ReuseSource(h["Nguon"]),
                         files=tuple((str(f["TenTep"]), str(f["DuongDan"])) for f in h["DanhSachTepDinhKem"]))
                for h in data["result"]["DanhSachGiayToKetQua"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError("bad-field", "result") from exc
        return cls(hits=hits, consulted=consulted, error_code=int(data.get("errorCode", 0)),
                   message=str(data.get("message", "")))


def status_payload(device: str, state: str, **extra: Any) -> bytes:
    """Retained device status (``online`` on connect, ``offline`` as the last will)."""
    return dump_json({"schema": STATUS_SCHEMA, "MaThietBi": device, "TrangThai": state, **extra})


def telemetry_payload(device: str, **values: int | float | str) -> bytes:
    """Periodic telemetry (counts only, never personal data)."""
    return dump_json({"schema": TELEMETRY_SCHEMA, "MaThietBi": device, **values})
