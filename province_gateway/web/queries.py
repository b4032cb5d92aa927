"""The province view's reads of the gateway database, and its look-up log (``gw_view_lookup``).

The tables are the gateway's (schema in :mod:`province_gateway.db`); every request opens its own
connection, so replicas share nothing but PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from ..db import GatewayDb, connect
from ..reuse import may_look_up

LIST_LIMIT = 5_000  # devices / count rows on one page
PAPERS_LIMIT = 200
LOG_LIMIT = 200


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A ``gw_device`` row with its registry office; ``now`` is the database clock (epoch seconds)."""

    device_id: str
    province: str
    office: str | None
    state: str | None
    telemetry: dict[str, Any]
    last_seen: datetime | None
    history_alert: str | None
    revoked: bool
    now: float


@dataclass(frozen=True, slots=True)
class DayCount:
    """Documents one office's devices delivered on one day (local date)."""

    office: str | None
    day: date
    documents: int
    components: int
    results: int
    versions: int


@dataclass(frozen=True, slots=True)
class Paper:
    """The latest stored version of one of an owner's documents."""

    document_id: str
    result_code: str | None
    name: str
    number_symbol: str | None
    kind: str | None
    office: str | None
    dossier_code: str | None
    procedure_code: str | None
    stored_at: datetime
    sha256: str
    signature: str


@dataclass(frozen=True, slots=True)
class LookupRow:
    """One look-up made in the province view (``gw_view_lookup``)."""

    at: datetime
    replica: str
    username: str
    role: str
    office: str | None
    dossier_code: str | None
    owner_id: str | None
    channel: str
    hits: int
    outcome: str


@dataclass(frozen=True, slots=True)
class DeviceLookupRow:
    """One reuse look-up a device made over MQTT (``gw_lookup``, written by the gateway)."""

    at: datetime
    replica: str
    device_id: str
    office: str | None
    procedure_code: str | None
    dossier_code: str | None
    owner_id: str | None
    requested: int
    hits: int
    outcome: str


class ViewDb:
    """Opens a connection per unit of work on the gateway's PostgreSQL."""

    def __init__(self, dsn: str, replica: str) -> None:
        self.dsn, self.replica = dsn, replica

    def create_schema(self) -> None:
        """Create the gateway schema if missing (serialised between replicas)."""
        connect(self.dsn).close()

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5) as conn:
            yield conn

    def ping(self) -> None:
        """Raise ``psycopg.Error`` when the database does not answer."""
        with self._conn() as conn:
            conn.execute("SELECT 1")

    def devices(self) -> list[DeviceRow]:
        """Every enrolled or reporting device with its office (an enrolled one never heard of: no last seen)."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT device_id, COALESCE(d.province, r.province), r.office, d.state,"
                " COALESCE(d.telemetry, '{}'::jsonb), d.last_seen, d.history_alert, r.revoked_at IS NOT NULL,"
                " extract(epoch FROM now())::float8"
                " FROM gw_device d FULL JOIN gw_registry r USING (device_id)"
                " ORDER BY r.office NULLS LAST, device_id LIMIT %s", (LIST_LIMIT,)).fetchall()
        return [DeviceRow(a, b, c, d, e if isinstance(e, dict) else {}, f, g, bool(h), float(i))
                for a, b, c, d, e, f, g, h, i in rows]

    def documents_per_day(self, start: date, end: date, tz: str) -> list[DayCount]:
        """Documents stored from ``start`` to ``end`` (inclusive, local dates in ``tz``) per office and day."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT office, (stored_at AT TIME ZONE %(tz)s)::date AS day, count(DISTINCT document_id),"
                " count(DISTINCT document_id) FILTER (WHERE kind = 'component'),"
                " count(DISTINCT document_id) FILTER (WHERE kind = 'result'), count(*)"
                " FROM gw_document WHERE stored_at >= (%(start)s::date::timestamp AT TIME ZONE %(tz)s)"
                " AND stored_at < ((%(end)s::date + 1)::timestamp AT TIME ZONE %(tz)s)"
                " GROUP BY 1, 2 ORDER BY 2 DESC, 1 NULLS LAST LIMIT %(limit)s",
                {"tz": tz, "start": start, "end": end, "limit": LIST_LIMIT}).fetchall()
        return [DayCount(a, b, int(c), int(d), int(e), int(f)) for a, b, c, d, e, f in rows]

    def office_may_see(self, office: str, dossier_code: str, owner_id: str, max_age_days: int) -> bool:
        """The gateway's reuse rule (:func:`province_gateway.reuse.may_look_up`) for a viewer's office."""
        with self._conn() as conn:
            return may_look_up(GatewayDb(conn, self.replica), office, dossier_code, owner_id, max_age_days)

    def owner_papers(self, owner_id: str) -> list[Paper]:
        """The owner's stored documents (latest version of each), newest first."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT * FROM (SELECT DISTINCT ON (document_id) document_id, result_code, name, number_symbol,"
                " kind, office, dossier_code, procedure_code, stored_at, sha256, signature FROM gw_document"
                " WHERE owner_id = %s ORDER BY document_id, stored_at DESC) latest"
                " ORDER BY stored_at DESC LIMIT %s", (owner_id, PAPERS_LIMIT)).fetchall()
        return [Paper(*r) for r in rows]

    def log_lookup(self, *, username: str, role: str, office: str | None, dossier_code: str | None,
                   owner_id: str | None, channel: str, hits: int, outcome: str) -> None:
        """Record one look-up, answered or refused (TT 01/2023 Art. 24.3: who asked about whose papers)."""
        with self._conn() as conn:
            conn.execute("INSERT INTO gw_view_lookup(replica, username, role, office, dossier_code, owner_id,"
                         " channel, hits, outcome) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                         (self.replica, username, role, office, dossier_code, owner_id, channel, hits, outcome))

    def login_failed(self, username: str) -> None:
        """Count a wrong password for ``username`` (shared by every replica); forgets failures older than a day."""
        with self._conn() as conn:
            conn.execute("INSERT INTO gw_view_login_failure(username) VALUES (%s)", (username,))
            conn.execute("DELETE FROM gw_view_login_failure WHERE at < now() - interval '1 day'")

    def recent_login_failures(self, username: str, window_s: int) -> int:
        """Wrong passwords for ``username`` in the last ``window_s`` seconds, on every replica."""
        with self._conn() as conn:
            row = conn.execute("SELECT count(*) FROM gw_view_login_failure WHERE username = %s"
                               " AND at > now() - make_interval(secs => %s)", (username, window_s)).fetchone()
        return int(row[0]) if row else 0

    def lookups(self) -> list[LookupRow]:
        """The latest look-ups of the province view, newest first."""
        with self._conn() as conn:
            rows = conn.execute("SELECT at, replica, username, role, office, dossier_code, owner_id, channel, hits,"
                                " outcome FROM gw_view_lookup ORDER BY id DESC LIMIT %s", (LOG_LIMIT,)).fetchall()
        return [LookupRow(*r) for r in rows]

    def device_lookups(self) -> list[DeviceLookupRow]:
        """The latest reuse look-ups made by devices, newest first."""
        with self._conn() as conn:
            rows = conn.execute("SELECT at, replica, device_id, office, procedure_code, dossier_code, owner_id,"
                                " requested, hits, outcome FROM gw_lookup ORDER BY id DESC LIMIT %s",
                                (LOG_LIMIT,)).fetchall()
        return [DeviceLookupRow(*r) for r in rows]
