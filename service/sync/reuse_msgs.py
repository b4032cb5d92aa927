"""Reuse look-up messages of protocol ``sohoa/v1`` (TT 01/2023 Art. 25.3; pure, no I/O)."""

from __future__ import annotations

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

REUSE_ORDER: tuple[ReuseSource, ...] = (ReuseSource.PROVINCE, ReuseSource.BILATERAL, ReuseSource.NATIONAL)


@dataclass(frozen=True, slots=True)
class ReuseQuery:
    """Reuse look-up (names from the DVCQG digitized store, docs/REGULATION.md §12.2)."""

    procedure_code: str  # MaThuTuc
    results: tuple[tuple[str, str | None], ...]  # DanhSachDanhMucKetQua: (MaKetQua, SoKyHieu)
    owner_id: str | None = None  # SoDinhDanhChuSoHuu (personal data: never logged)
    dossier_code: str | None = None  # MaHoSo: the asking office's dossier for this owner (authorisation)

    def encode(self) -> bytes:
        """Payload bytes."""
        out: dict[str, Any] = {"schema": REUSE_REQ_SCHEMA, "MaThuTuc": self.procedure_code,
                               "DanhSachDanhMucKetQua": [{"MaKetQua": c, "SoKyHieu": s} for c, s in self.results]}
        if self.owner_id:
            out["SoDinhDanhChuSoHuu"] = self.owner_id
        if self.dossier_code:
            out["MaHoSo"] = self.dossier_code
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
            results.append((req_str(item, "MaKetQua", max_len=64),
                            opt_str(item, "SoKyHieu", required=False, max_len=64)))
        return cls(procedure_code=req_str(data, "MaThuTuc", max_len=64), results=tuple(results),
                   owner_id=opt_str(data, "SoDinhDanhChuSoHuu", required=False, max_len=20, pattern=OWNER_RE),
                   dossier_code=opt_str(data, "MaHoSo", required=False, max_len=64))


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
