"""Report queries and reuse records (mixed into :class:`service.store.store.Store`).

The monthly report counts what the store recorded, never what a log says: dossiers received,
additional-paper requests, returns and settlements from ``dossier_history``; components and
results digitized from ``documents`` (who stored each one from its ``document_stored`` audit
row); papers reused instead of scanned again from ``dossier_paper_reused`` audit rows, which
:meth:`ReportQueries.record_reuse` appends (subject: the dossier; details: the component code and
the reused document's id, no personal data). Every query takes a UTC ``[start, end)`` range.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from service.domain.errors import NotFoundError
from service.domain.reports import Fact, FactKind
from service.store import audit

#: Audit action of a paper reused in a dossier instead of being scanned again.
REUSED = "dossier_paper_reused"

_COMPONENT = "(d.kind IS NULL OR d.kind = 'component')"
_DOCS = ("SELECT d.created_at AS at, COALESCE(a.actor, '') AS actor, d.dossier_id AS dossier_id, "
         "s.procedure_code AS procedure_code, d.component_code AS component_code FROM documents d "
         "LEFT JOIN dossiers s ON s.id = d.dossier_id "
         "LEFT JOIN audit a ON a.subject = d.id AND a.action = 'document_stored' "
         "WHERE {where} AND d.created_at >= ? AND d.created_at < ? ORDER BY d.created_at, d.id")
_HISTORY = ("SELECT h.at AS at, h.actor AS actor, h.dossier_id AS dossier_id, s.procedure_code AS procedure_code, "
            "s.created_at AS received_at, EXISTS (SELECT 1 FROM documents r WHERE r.dossier_id = h.dossier_id "
            "AND r.kind = 'result') AS has_result FROM dossier_history h JOIN dossiers s ON s.id = h.dossier_id "
            "WHERE h.status IN ({marks}) AND h.at >= ? AND h.at < ? ORDER BY h.at, h.id")
_REUSES = ("SELECT a.at AS at, a.actor AS actor, a.subject AS dossier_id, s.procedure_code AS procedure_code, "
           "json_extract(a.details_json, '$.component_code') AS component_code FROM audit a "
           "LEFT JOIN dossiers s ON s.id = a.subject WHERE a.action = ? AND a.at >= ? AND a.at < ? ORDER BY a.seq")


class ReportQueries:
    """The report's read queries and the reuse record (mixed into :class:`Store`)."""

    conn: sqlite3.Connection

    if TYPE_CHECKING:  # provided by Store, the class this one is mixed into
        def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
            """A write transaction (``BEGIN IMMEDIATE``)."""

    def record_reuse(self, dossier_id: str, component_code: str, document_id: str | None, *, actor: str,
                     province_reference: str | None = None) -> None:
        """Record that ``document_id`` (a stored document) — or, for a paper held only by the province,
        the digest ``province_reference`` of its result code — was reused as ``component_code``."""
        if (document_id is None) == (province_reference is None):
            raise ValueError("record_reuse needs exactly one of document_id and province_reference")
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM dossiers WHERE id = ?", (dossier_id,)).fetchone() is None:
                raise NotFoundError(f"no dossier {dossier_id}", remedy="check the code with 'sohoa dossier list'")
            if document_id is not None and \
                    c.execute("SELECT 1 FROM documents WHERE id = ?", (document_id,)).fetchone() is None:
                raise NotFoundError("no document has that id", remedy="check the code with 'sohoa list'")
            details = {"component_code": component_code, "document_id": document_id} if document_id is not None \
                else {"component_code": component_code, "source": "province", "reference_sha256": province_reference}
            audit.append(c, actor=actor, action=REUSED, subject=dossier_id, details=details)

    def dossier_reuses(self, dossier_id: str) -> list[tuple[str, str]]:
        """``(component code, reused document id)`` recorded for the dossier, oldest first."""
        rows = self.conn.execute("SELECT details_json FROM audit WHERE action = ? AND subject = ? ORDER BY seq",
                                 (REUSED, dossier_id))
        out = []
        for r in rows:
            d = json.loads(r["details_json"])
            out.append((str(d.get("component_code", "")), str(d.get("document_id") or "")))
        return out

    def report_facts(self, start: str, end: str, *, settled_statuses: Sequence[str]) -> list[Fact]:
        """Every counted event with ``start <= at < end`` (UTC ISO-8601), oldest first per kind."""
        c = self.conn
        facts: list[Fact] = []
        for kind, where in ((FactKind.COMPONENT, _COMPONENT), (FactKind.RESULT, "d.kind = 'result'")):
            facts += [Fact(kind, r["at"], r["actor"], r["dossier_id"], r["procedure_code"], r["component_code"])
                      for r in c.execute(_DOCS.format(where=where), (start, end))]
        for kind, statuses in ((FactKind.RECEIVED, ("received",)), (FactKind.REQUEST, ("additional_papers_requested",)),
                               (FactKind.RETURNED, ("returned",)), (FactKind.SETTLED, tuple(settled_statuses))):
            if not statuses:
                continue
            sql = _HISTORY.format(marks=", ".join("?" * len(statuses)))
            facts += [Fact(kind, r["at"], r["actor"], r["dossier_id"], r["procedure_code"],
                           received_at=r["received_at"], has_result=bool(r["has_result"]))
                      for r in c.execute(sql, (*statuses, start, end))]
        facts += [Fact(FactKind.REUSED, r["at"], r["actor"], r["dossier_id"], r["procedure_code"], r["component_code"])
                  for r in c.execute(_REUSES, (REUSED, start, end))]
        return facts

    def dossier_papers(self, dossier_ids: Iterable[str], until: str, *,
                       with_reuse: bool) -> dict[str, set[str]]:
        """For each dossier, the component codes it held before ``until`` (digitized, and reused if asked)."""
        ids = list(dict.fromkeys(dossier_ids))
        held: dict[str, set[str]] = {i: set() for i in ids}
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            marks = ", ".join("?" * len(chunk))
            rows = list(self.conn.execute(
                f"SELECT d.dossier_id AS dossier_id, d.component_code AS code FROM documents d WHERE {_COMPONENT} "
                f"AND d.component_code IS NOT NULL AND d.created_at < ? AND d.dossier_id IN ({marks})",
                (until, *chunk)))
            if with_reuse:
                rows += list(self.conn.execute(
                    f"SELECT subject AS dossier_id, json_extract(details_json, '$.component_code') AS code "
                    f"FROM audit WHERE action = ? AND at < ? AND subject IN ({marks})", (REUSED, until, *chunk)))
            for r in rows:
                if r["code"]:
                    held[str(r["dossier_id"])].add(str(r["code"]))
        return held
