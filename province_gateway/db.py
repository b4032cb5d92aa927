"""PostgreSQL schema and queries of the province gateway (shared by all replicas)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from service.domain.errors import ConfigError
from service.sync import protocol as p

SCHEMA_LOCK = 727_274_001
SCHEMA = """
CREATE TABLE IF NOT EXISTS gw_transfer (
    document_id  text   NOT NULL,
    sha256       text   NOT NULL,
    device_id    text   NOT NULL,
    province     text   NOT NULL,
    manifest     jsonb  NOT NULL,
    size         bigint NOT NULL,
    chunk_size   integer NOT NULL,
    chunk_count  integer NOT NULL,
    state        text   NOT NULL DEFAULT 'receiving' CHECK (state IN ('receiving', 'stored', 'rejected')),
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, sha256)
);
CREATE TABLE IF NOT EXISTS gw_chunk (
    document_id  text    NOT NULL,
    sha256       text    NOT NULL,
    seq          integer NOT NULL,
    data         bytea   NOT NULL,
    PRIMARY KEY (document_id, sha256, seq)
);
CREATE TABLE IF NOT EXISTS gw_document (
    id             bigserial PRIMARY KEY,
    document_id    text   NOT NULL,
    sha256         text   NOT NULL,
    device_id      text   NOT NULL,
    province       text   NOT NULL,
    name           text   NOT NULL,
    result_code    text,
    number_symbol  text,
    procedure_code text,
    dossier_code   text,
    manifest       jsonb  NOT NULL,
    size           bigint NOT NULL,
    signature      text   NOT NULL,
    stored_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (document_id, sha256)
);
CREATE INDEX IF NOT EXISTS gw_document_result ON gw_document (result_code);
CREATE TABLE IF NOT EXISTS gw_event (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    replica      text NOT NULL,
    device_id    text,
    document_id  text,
    sha256       text,
    event        text NOT NULL,
    reason       text
);
CREATE TABLE IF NOT EXISTS gw_device (
    device_id    text PRIMARY KEY,
    province     text NOT NULL,
    state        text,
    telemetry    jsonb,
    last_seen    timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE gw_device ADD COLUMN IF NOT EXISTS audit_seq bigint;
ALTER TABLE gw_device ADD COLUMN IF NOT EXISTS audit_hash text;
ALTER TABLE gw_device ADD COLUMN IF NOT EXISTS history_alert text;
ALTER TABLE gw_document ADD COLUMN IF NOT EXISTS owner_id text;
ALTER TABLE gw_document ADD COLUMN IF NOT EXISTS office text;
ALTER TABLE gw_document ADD COLUMN IF NOT EXISTS kind text;
CREATE INDEX IF NOT EXISTS gw_document_owner ON gw_document (owner_id);
CREATE INDEX IF NOT EXISTS gw_transfer_open ON gw_transfer (device_id) WHERE state = 'receiving';
CREATE TABLE IF NOT EXISTS gw_registry (
    device_id    text PRIMARY KEY,
    province     text NOT NULL,
    office       text NOT NULL,
    enrolled_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE TABLE IF NOT EXISTS gw_dossier (
    office        text NOT NULL,
    dossier_code  text NOT NULL,
    owner_id      text NOT NULL,
    procedure_code text,
    opened_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (office, dossier_code, owner_id)
);
CREATE TABLE IF NOT EXISTS gw_lookup (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    replica       text NOT NULL,
    device_id     text NOT NULL,
    office        text,
    procedure_code text,
    dossier_code  text,
    owner_id      text,
    requested     integer NOT NULL,
    hits          integer NOT NULL,
    outcome       text NOT NULL
);
CREATE INDEX IF NOT EXISTS gw_lookup_device ON gw_lookup (device_id, at);
CREATE TABLE IF NOT EXISTS gw_view_lookup (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    replica       text NOT NULL,
    username      text NOT NULL,
    role          text NOT NULL,
    office        text,
    dossier_code  text,
    owner_id      text,
    channel       text NOT NULL,
    hits          integer NOT NULL,
    outcome       text NOT NULL
);
CREATE INDEX IF NOT EXISTS gw_view_lookup_at ON gw_view_lookup (at);
CREATE TABLE IF NOT EXISTS gw_view_login_failure (
    username      text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS gw_view_login_failure_user ON gw_view_login_failure (username, at);
ALTER TABLE gw_lookup ADD COLUMN IF NOT EXISTS document_types text[];
"""
#: A stored paper's document type: the manifest's ``MaLoaiGiayTo``; manifests from before it carried
#: the type code in ``TypeName`` when the paper had no document name.
DOC_TYPE_SQL = ("COALESCE(manifest->'ThongTinMoTa'->>'MaLoaiGiayTo', manifest->'ThongTinMoTa'->>'TypeName')")


@dataclass(frozen=True, slots=True)
class TransferRow:
    """A ``gw_transfer`` row."""

    document_id: str
    sha256: str
    device_id: str
    manifest: dict[str, Any]
    size: int
    chunk_size: int
    chunk_count: int
    state: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class TypedPaper:
    """A stored paper found by owner and document type (``find_by_type``)."""

    result_code: str
    name: str
    number_symbol: str | None
    file_name: str
    sha256: str
    document_type: str
    issued: str | None
    stored_at: str


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A ``gw_registry`` row: the province and office a device identity is bound to."""

    device_id: str
    province: str
    office: str
    revoked: bool


def register_device(dsn: str, device: str, province: str, office: str) -> None:
    """Bind a device identity to its province and office in the gateway's registry (enrolment)."""
    with connect(dsn) as conn:
        conn.execute("INSERT INTO gw_registry(device_id, province, office) VALUES (%s,%s,%s)"
                     " ON CONFLICT (device_id) DO UPDATE SET province=EXCLUDED.province, office=EXCLUDED.office,"
                     " enrolled_at=now(), revoked_at=NULL", (device, province, office))


def revoke_device(dsn: str, device: str) -> None:
    """Mark a device identity revoked in the registry: the gateway ignores it from then on."""
    with connect(dsn) as conn:
        conn.execute("UPDATE gw_registry SET revoked_at=now() WHERE device_id=%s", (device,))


def register_dossier(dsn: str, office: str, dossier_code: str, owner_id: str, procedure_code: str | None) -> None:
    """Record a dossier an office opened for an owner (what the province's one-stop-shop system reports)."""
    with connect(dsn) as conn:
        conn.execute("INSERT INTO gw_dossier(office, dossier_code, owner_id, procedure_code) VALUES (%s,%s,%s,%s)"
                     " ON CONFLICT DO NOTHING", (office, dossier_code, owner_id, procedure_code))


def load_dossiers(dsn: str, path: Path) -> int:
    """Import the one-stop-shop system's dossiers (JSON list of ``{MaDonVi, MaHoSo, SoDinhDanhChuSoHuu, MaTTHC?}``).

    Raises ``ConfigError`` naming the first bad item; returns how many rows were read.
    """
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(items, list):
            raise TypeError("not a list")
        rows = []
        for n, i in enumerate(items):
            office, dossier, owner = i["MaDonVi"], i["MaHoSo"], i["SoDinhDanhChuSoHuu"]
            procedure = i.get("MaTTHC")
            if not (isinstance(office, str) and 0 < len(office) <= 64 and isinstance(dossier, str)
                    and 0 < len(dossier) <= 64 and isinstance(owner, str) and p.OWNER_RE.fullmatch(owner)
                    and (procedure is None or isinstance(procedure, str))
                    and all(p.storable_text(v) for v in (office, dossier, procedure or ""))):
                raise ValueError(f"item {n}")
            rows.append((office, dossier, owner, procedure))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"dossier index {path} unusable ({exc.__class__.__name__}: {exc})",
                          remedy="give a JSON list of {MaDonVi, MaHoSo, SoDinhDanhChuSoHuu, MaTTHC}") from exc
    with connect(dsn) as conn, conn.transaction():
        for row in rows:
            conn.execute("INSERT INTO gw_dossier(office, dossier_code, owner_id, procedure_code) VALUES (%s,%s,%s,%s)"
                         " ON CONFLICT DO NOTHING", row)
    return len(rows)


def connect(dsn: str) -> psycopg.Connection[Any]:
    """Open an autocommit connection and create the schema (serialised between replicas)."""
    conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        conn.execute(SCHEMA)
    return conn


class GatewayDb:
    """Queries used by the message handler."""

    def __init__(self, conn: psycopg.Connection[Any], replica: str) -> None:
        self.conn = conn
        self.replica = replica

    def event(self, event: str, *, device: str | None = None, doc: str | None = None, sha: str | None = None,
              reason: str | None = None) -> None:
        """Append to the event log (no personal data: ids and reason codes only)."""
        self.conn.execute("INSERT INTO gw_event(replica, device_id, document_id, sha256, event, reason)"
                          " VALUES (%s,%s,%s,%s,%s,%s)", (self.replica, device, doc, sha, event, reason))

    def get_transfer(self, doc: str, sha: str, *, lock: bool = False) -> TransferRow | None:
        """The transfer of one version (``FOR UPDATE`` inside a transaction when ``lock``)."""
        row = self.conn.execute(
            "SELECT document_id, sha256, device_id, manifest, size, chunk_size, chunk_count, state, reason"
            " FROM gw_transfer WHERE document_id=%s AND sha256=%s" + (" FOR UPDATE" if lock else ""),
            (doc, sha)).fetchone()
        return TransferRow(*row) if row else None

    def add_transfer(self, m: p.Manifest) -> bool:
        """Record a manifest (metadata arrives before the file); False if already known."""
        cur = self.conn.execute(
            "INSERT INTO gw_transfer(document_id, sha256, device_id, province, manifest, size, chunk_size, chunk_count)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
            (m.document_id, m.sha256, m.device_id, m.province, Jsonb(m.to_json()), m.file.size, m.file.chunk_size,
             m.file.chunks))
        return cur.rowcount > 0

    def reset_transfer(self, m: p.Manifest) -> None:
        """A device re-announced a version with other chunking: adopt it and drop held chunks."""
        with self.conn.transaction():
            self.conn.execute("DELETE FROM gw_chunk WHERE document_id=%s AND sha256=%s", (m.document_id, m.sha256))
            self.conn.execute("UPDATE gw_transfer SET chunk_size=%s, chunk_count=%s, size=%s, manifest=%s,"
                              " updated_at=now() WHERE document_id=%s AND sha256=%s AND state='receiving'",
                              (m.file.chunk_size, m.file.chunks, m.file.size, Jsonb(m.to_json()), m.document_id,
                               m.sha256))

    def have_chunks(self, doc: str, sha: str) -> set[int]:
        """Sequence numbers already received."""
        rows = self.conn.execute("SELECT seq FROM gw_chunk WHERE document_id=%s AND sha256=%s", (doc, sha)).fetchall()
        return {int(r[0]) for r in rows}

    def add_chunk(self, doc: str, sha: str, seq: int, data: bytes) -> bool:
        """Store one verified chunk; False for a replay of one already held."""
        cur = self.conn.execute("INSERT INTO gw_chunk(document_id, sha256, seq, data) VALUES (%s,%s,%s,%s)"
                                " ON CONFLICT DO NOTHING", (doc, sha, seq, data))
        return cur.rowcount > 0

    def chunk_total(self, doc: str, sha: str) -> int:
        """How many chunks are held."""
        row = self.conn.execute("SELECT count(*) FROM gw_chunk WHERE document_id=%s AND sha256=%s",
                                (doc, sha)).fetchone()
        return int(row[0]) if row else 0

    def chunks(self, doc: str, sha: str) -> list[bytes]:
        """All held chunks in order."""
        rows = self.conn.execute("SELECT data FROM gw_chunk WHERE document_id=%s AND sha256=%s ORDER BY seq",
                                 (doc, sha)).fetchall()
        return [bytes(r[0]) for r in rows]

    def finish(self, t: TransferRow, *, stored: bool, signature: str, reason: str | None) -> int | None:
        """Close a transfer: insert the document (when stored), drop its chunks; returns the row id."""
        doc_id = None
        if stored:
            m = t.manifest
            row = self.conn.execute(
                "INSERT INTO gw_document(document_id, sha256, device_id, province, name, result_code, number_symbol,"
                " procedure_code, dossier_code, manifest, size, signature, owner_id, kind, office)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,"
                " (SELECT office FROM gw_registry WHERE device_id=%s))"
                " ON CONFLICT (document_id, sha256) DO NOTHING RETURNING id",
                (t.document_id, t.sha256, t.device_id, m.get("MaTinh", ""), m.get("TenGiayTo", ""),
                 m.get("MaGiayToKetQua"), m.get("SoKyHieu"), m.get("MaTTHC"), m.get("MaHoSo"), Jsonb(m), t.size,
                 signature, (m.get("ThongTinMoTa") or {}).get("SoDinhDanhChuSoHuu"),
                 {"0": "component", "1": "result"}.get(str(m.get("LoaiSoHoa"))), t.device_id)).fetchone()
            doc_id = int(row[0]) if row else None
        self.conn.execute("UPDATE gw_transfer SET state=%s, reason=%s, updated_at=now() WHERE document_id=%s"
                          " AND sha256=%s", ("stored" if stored else "rejected", reason, t.document_id, t.sha256))
        self.conn.execute("DELETE FROM gw_chunk WHERE document_id=%s AND sha256=%s", (t.document_id, t.sha256))
        return doc_id

    def receipt(self, doc: str, sha: str) -> str | None:
        """The gateway's id of a stored version."""
        row = self.conn.execute("SELECT id FROM gw_document WHERE document_id=%s AND sha256=%s", (doc, sha)).fetchone()
        return f"GW-{row[0]}" if row else None

    def find_results(self, code: str, number_symbol: str | None,
                     owner_id: str) -> list[tuple[str, str, str | None, str, str]]:
        """One owner's stored result papers with this result code: (code, name, number/symbol, file name, sha)."""
        sql = ("SELECT result_code, name, number_symbol, manifest->'TepDinhKem'->>'TenTep', sha256 FROM gw_document"
               " WHERE result_code=%s AND owner_id=%s")
        args: tuple[Any, ...] = (code, owner_id)
        if number_symbol:
            sql += " AND number_symbol=%s"
            args = (code, owner_id, number_symbol)
        rows = self.conn.execute(sql + " ORDER BY stored_at DESC LIMIT 20", args).fetchall()
        return [(str(a), str(b), c, str(d), str(e)) for a, b, c, d, e in rows]

    def find_by_type(self, owner_id: str, types: tuple[str, ...]) -> list[TypedPaper]:
        """One owner's stored papers of these document types, the newest version of each, newest first."""
        rows = self.conn.execute(
            "SELECT * FROM (SELECT DISTINCT ON (document_id) result_code, name, number_symbol,"
            f" manifest->'TepDinhKem'->>'TenTep', sha256, {DOC_TYPE_SQL},"
            " manifest->'ThongTinMoTa'->>'IssuedDate', stored_at FROM gw_document"
            f" WHERE owner_id=%s AND {DOC_TYPE_SQL} = ANY(%s) ORDER BY document_id, stored_at DESC) v"
            " ORDER BY stored_at DESC LIMIT 50", (owner_id, list(types))).fetchall()
        return [TypedPaper(str(a), str(b), c, str(d), str(e), str(f), g, h.isoformat(timespec="seconds"))
                for a, b, c, d, e, f, g, h in rows]

    def enrolment(self, device: str) -> Enrolment | None:
        """The registry row of a device identity (None: never enrolled)."""
        row = self.conn.execute("SELECT device_id, province, office, revoked_at IS NOT NULL FROM gw_registry"
                                " WHERE device_id=%s", (device,)).fetchone()
        return Enrolment(*row) if row else None

    def office_holds_dossier(self, office: str, dossier_code: str, owner_id: str, max_age_days: int) -> bool:
        """Whether ``office`` opened this dossier for this owner (registered, or a stored document says so)."""
        row = self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM gw_dossier WHERE office=%s AND dossier_code=%s AND owner_id=%s"
            "   AND opened_at > now() - make_interval(days => %s))"
            " OR EXISTS (SELECT 1 FROM gw_document WHERE office=%s AND dossier_code=%s AND owner_id=%s"
            "   AND stored_at > now() - make_interval(days => %s))",
            (office, dossier_code, owner_id, max_age_days, office, dossier_code, owner_id, max_age_days)).fetchone()
        return bool(row and row[0])

    def log_lookup(self, device: str, office: str | None, query: p.ReuseQuery, hits: int, outcome: str) -> None:
        """Every reuse look-up, answered or refused (TT 01/2023 Art. 24.3: who saw whose papers)."""
        self.conn.execute("INSERT INTO gw_lookup(replica, device_id, office, procedure_code, dossier_code, owner_id,"
                          " requested, hits, outcome, document_types) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                          (self.replica, device, office, query.procedure_code, query.dossier_code, query.owner_id,
                           len(query.results) + len(query.document_types), hits, outcome,
                           list(query.document_types) or None))

    def lookups_last_minute(self, device: str) -> int:
        """Look-ups a device made in the last minute, on every replica (the shared rate limit)."""
        row = self.conn.execute("SELECT count(*) FROM gw_lookup WHERE device_id=%s"
                                " AND at > now() - interval '1 minute'", (device,)).fetchone()
        return int(row[0]) if row else 0

    def open_transfers(self, device: str) -> tuple[int, int]:
        """A device's incomplete transfers: how many and their declared bytes (per-device quota)."""
        row = self.conn.execute("SELECT count(*), COALESCE(sum(size), 0) FROM gw_transfer"
                                " WHERE device_id=%s AND state='receiving'", (device,)).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def touch(self, doc: str, sha: str) -> None:
        """A transfer is alive (a manifest or chunk arrived): postpones its expiry."""
        self.conn.execute("UPDATE gw_transfer SET updated_at=now() WHERE document_id=%s AND sha256=%s"
                          " AND state='receiving'", (doc, sha))

    def expire_transfers(self, ttl_s: float) -> list[tuple[str, str, str]]:
        """Drop incomplete transfers idle longer than ``ttl_s`` with their chunks; returns (device, doc, sha)."""
        with self.conn.transaction():
            rows = self.conn.execute(
                "DELETE FROM gw_transfer WHERE state='receiving' AND updated_at < now() - make_interval(secs => %s)"
                " RETURNING device_id, document_id, sha256", (ttl_s,)).fetchall()
            for _dev, doc, sha in rows:
                self.conn.execute("DELETE FROM gw_chunk WHERE document_id=%s AND sha256=%s", (doc, sha))
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    def device_seen(self, device: str, province: str, *, state: str | None = None,
                    telemetry: dict[str, Any] | None = None) -> None:
        """Update a device's last status / telemetry."""
        self.conn.execute(
            "INSERT INTO gw_device(device_id, province, state, telemetry) VALUES (%s,%s,%s,%s)"
            " ON CONFLICT (device_id) DO UPDATE SET last_seen=now(),"
            " state=COALESCE(EXCLUDED.state, gw_device.state),"
            " telemetry=COALESCE(EXCLUDED.telemetry, gw_device.telemetry)",
            (device, province, state, Jsonb(telemetry) if telemetry is not None else None))

    def audit_head_seen(self, device: str, seq: int, head: str) -> str | None:
        """Keep the highest audit head a device reported; returns ``history-shrank`` (a lower sequence
        number than already seen) or ``history-rewritten`` (same number, other hash), else None."""
        with self.conn.transaction():
            row = self.conn.execute("SELECT audit_seq, audit_hash FROM gw_device WHERE device_id=%s FOR UPDATE",
                                    (device,)).fetchone()
            alert = None
            if row is not None and row[0] is not None:
                if seq < int(row[0]):
                    alert = "history-shrank"
                elif seq == int(row[0]) and head != row[1]:
                    alert = "history-rewritten"
            if alert is not None:
                self.conn.execute("UPDATE gw_device SET history_alert=%s WHERE device_id=%s", (alert, device))
            else:
                self.conn.execute("UPDATE gw_device SET audit_seq=%s, audit_hash=%s WHERE device_id=%s",
                                  (seq, head, device))
        return alert
