"""Reuse look-up messages of protocol ``sohoa/v1`` (TT 01/2023 Art. 25.3; pure, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from service.sync.wire import OWNER_RE, ProtocolError, dump_json, load_json, opt_str, req_str

REUSE_REQ_SCHEMA = "sohoa.reuse-request/1"
REUSE_RESP_SCHEMA = "sohoa.reuse-response/1"


class ReuseSource(StrEnum):
    """Art. 25.3 look-up order: own store, then bilateral systems, then the national portal."""

    PROVINCE = "kho-tinh"
    BILATERAL = "song-phuong"
    NATIONAL = "cong-dvc-quoc-gia"


# errorCode of an answer
FOUND, NOT_FOUND, RATE_LIMITED, NOT_AUTHORISED = 0, 1, 2, 3

#: A document type code as the catalogue writes it (``KQ.G15.000035``, ``1.001193.GCS.01``).
DOC_TYPE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_RESULTS, MAX_TYPES = 50, 20

REUSE_ORDER: tuple[ReuseSource, ...] = (ReuseSource.PROVINCE, ReuseSource.BILATERAL, ReuseSource.NATIONAL)


@dataclass(frozen=True, slots=True)
class ReuseQuery:
    """Reuse look-up (names from the DVCQG digitized store, docs/REGULATION.md §12.2).

    Asks by result code (``results``), by document type of the owner's papers (``document_types``,
    ``DanhSachLoaiGiayTo``, added compatibly: a request without it is the original form), or both.
    """

    procedure_code: str  # MaThuTuc
    results: tuple[tuple[str, str | None], ...]  # DanhSachDanhMucKetQua: (MaKetQua, SoKyHieu)
    owner_id: str | None = None  # SoDinhDanhChuSoHuu (personal data: never logged)
    dossier_code: str | None = None  # MaHoSo: the asking office's dossier for this owner (authorisation)
    document_types: tuple[str, ...] = ()  # DanhSachLoaiGiayTo: the owner's papers of these types

    def encode(self) -> bytes:
        """Payload bytes."""
        out: dict[str, Any] = {"schema": REUSE_REQ_SCHEMA, "MaThuTuc": self.procedure_code,
                               "DanhSachDanhMucKetQua": [{"MaKetQua": c, "SoKyHieu": s} for c, s in self.results]}
        if self.owner_id:
            out["SoDinhDanhChuSoHuu"] = self.owner_id
        if self.dossier_code:
            out["MaHoSo"] = self.dossier_code
        if self.document_types:
            out["DanhSachLoaiGiayTo"] = list(self.document_types)
        return dump_json(out)

    @classmethod
    def decode(cls, payload: bytes) -> ReuseQuery:
        """Parse and validate a look-up request."""
        data = load_json(payload)
        if data.get("schema") != REUSE_REQ_SCHEMA:
            raise ProtocolError("bad-schema")
        types = _doc_types(data.get("DanhSachLoaiGiayTo"))
        items = data.get("DanhSachDanhMucKetQua", [] if types else None)
        if not isinstance(items, list) or not (0 if types else 1) <= len(items) <= MAX_RESULTS:
            raise ProtocolError("bad-field", "DanhSachDanhMucKetQua")
        results = []
        for item in items:
            if not isinstance(item, dict):
                raise ProtocolError("bad-field", "DanhSachDanhMucKetQua")
            results.append((req_str(item, "MaKetQua", max_len=64),
                            opt_str(item, "SoKyHieu", required=False, max_len=64)))
        return cls(procedure_code=req_str(data, "MaThuTuc", max_len=64), results=tuple(results),
                   owner_id=opt_str(data, "SoDinhDanhChuSoHuu", required=False, max_len=20, pattern=OWNER_RE),
                   dossier_code=opt_str(data, "MaHoSo", required=False, max_len=64), document_types=types)


def _doc_types(raw: Any) -> tuple[str, ...]:
    """``DanhSachLoaiGiayTo``: absent, or 1..20 distinct document type codes."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_TYPES or len(set(map(str, raw))) != len(raw) or not all(
            isinstance(x, str) and DOC_TYPE_RE.fullmatch(x) for x in raw):
        raise ProtocolError("bad-field", "DanhSachLoaiGiayTo")
    return tuple(raw)


@dataclass(frozen=True, slots=True)
class ReuseHit:
    """One found result paper (``DanhSachGiayToKetQua`` item).

    ``document_type`` (``MaLoaiGiayTo``), ``issued`` (``NgayBanHanh``, ISO date) and ``stored_at``
    (``ThoiDiemLuu``, ISO time) are optional additions: an older gateway leaves them out.
    """

    result_code: str  # MaKetQua
    name: str  # TenGiayTo
    number_symbol: str | None  # SoKyHieu
    agency: str  # CoQuanChuQuan
    files: tuple[tuple[str, str], ...]  # DanhSachTepDinhKem: (TenTep, DuongDan)
    source: ReuseSource
    document_type: str | None = None  # MaLoaiGiayTo
    issued: str | None = None  # NgayBanHanh
    stored_at: str | None = None  # ThoiDiemLuu

    def to_json(self) -> dict[str, Any]:
        """Wire form."""
        out: dict[str, Any] = {"MaKetQua": self.result_code, "TenGiayTo": self.name, "SoKyHieu": self.number_symbol,
                               "CoQuanChuQuan": self.agency, "Nguon": self.source.value,
                               "DanhSachTepDinhKem": [{"TenTep": n, "DuongDan": p} for n, p in self.files]}
        for key, value in (("MaLoaiGiayTo", self.document_type), ("NgayBanHanh", self.issued),
                           ("ThoiDiemLuu", self.stored_at)):
            if value:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, h: Any) -> ReuseHit:
        """Parse one hit (raises KeyError / TypeError / ValueError on a malformed one)."""
        def opt(key: str) -> str | None:
            value = h.get(key)
            if value is not None and not isinstance(value, str):
                raise TypeError(key)
            return value

        return cls(result_code=str(h["MaKetQua"]), name=str(h["TenGiayTo"]), number_symbol=opt("SoKyHieu"),
                   agency=str(h["CoQuanChuQuan"]), source=ReuseSource(h["Nguon"]),
                   files=tuple((str(f["TenTep"]), str(f["DuongDan"])) for f in h["DanhSachTepDinhKem"]),
                   document_type=opt("MaLoaiGiayTo"), issued=opt("NgayBanHanh"), stored_at=opt("ThoiDiemLuu"))


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
            hits = tuple(ReuseHit.from_json(h) for h in data["result"]["DanhSachGiayToKetQua"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError("bad-field", "result") from exc
        return cls(hits=hits, consulted=consulted, error_code=int(data.get("errorCode", 0)),
                   message=str(data.get("message", "")))
