"""Reuse look-ups on the gateway (TT 01/2023 Art. 25.3 order), authorised, scoped, rate-limited and logged.

Art. 24.3: data is shown according to the viewer's rights. A look-up is answered only when
the request names the owner (``SoDinhDanhChuSoHuu``) and a dossier (``MaHoSo``) that the asking
device's office holds for that owner, either registered by the province's one-stop-shop system
(``gw_dossier``) or proven by a document the office itself stored for that owner in that dossier.
Results are only that owner's papers. Every look-up, answered or refused, is a ``gw_lookup`` row.
A request may ask by result code (``DanhSachDanhMucKetQua``) and/or by the document types of the
owner's papers (``DanhSachLoaiGiayTo``); hits of the own store carry their type, issue date and
storage time.
"""

from __future__ import annotations

import logging
from typing import Protocol

from service.domain.errors import SohoaError
from service.sync import protocol as p

from .db import Enrolment, GatewayDb
from .policy import Limits, RateLimiter

log = logging.getLogger("sohoa.gateway.reuse")


class Resolver(Protocol):
    """A reuse look-up source beyond the gateway's own store (bilateral system, national portal)."""

    source: p.ReuseSource

    def find(self, query: p.ReuseQuery) -> list[p.ReuseHit]:
        """Matching result papers of ``query.owner_id`` only (empty when none)."""
        ...


def may_look_up(db: GatewayDb, office: str, dossier_code: str | None, owner_id: str | None,
                max_age_days: int) -> bool:
    """Art. 24.3: an office sees an owner's papers only for a dossier it holds for that owner.

    The one rule behind the devices' ``up/reuse`` look-ups and the province view's officer look-ups.
    """
    if not owner_id or not dossier_code:
        return False
    return db.office_holds_dossier(office, dossier_code, owner_id, max_age_days)


class ReuseDesk:
    """Answers ``up/reuse`` requests for one replica."""

    def __init__(self, db: GatewayDb, resolvers: list[Resolver], limits: Limits, agency: str) -> None:
        self.db, self.limits, self.agency = db, limits, agency
        self.resolvers = sorted(resolvers, key=lambda r: p.REUSE_ORDER.index(r.source))
        self.limiter = RateLimiter(limits.reuse_per_minute, limits.reuse_burst)

    def answer(self, info: p.TopicInfo, enrolment: Enrolment, q: p.ReuseQuery) -> tuple[p.ReuseAnswer, str]:
        """The answer and the outcome code recorded for it (``answered``, ``rate-limited``, ``not-authorised``)."""
        # a per-replica token bucket absorbs floods cheaply; the gw_lookup count holds across replicas
        if not self.limiter.allow(info.device) or (
                self.db.lookups_last_minute(info.device) >= self.limits.reuse_per_minute):
            return self._refused(info, enrolment, q, p.RATE_LIMITED, "rate-limited")
        if not q.owner_id or not may_look_up(self.db, enrolment.office, q.dossier_code, q.owner_id,
                                             self.limits.dossier_max_age_days):
            return self._refused(info, enrolment, q, p.NOT_AUTHORISED, "not-authorised")
        consulted: list[p.ReuseSource] = [p.ReuseSource.PROVINCE]
        hits: list[p.ReuseHit] = []
        for code, symbol in q.results:
            for rc, name, sym, fname, sha in self.db.find_results(code, symbol, q.owner_id):
                hits.append(p.ReuseHit(rc, name, sym, self.agency, ((fname, f"sohoa://{info.province}/files/{sha}"),),
                                       p.ReuseSource.PROVINCE))
        if q.document_types:
            seen = {h.result_code for h in hits}
            for t in self.db.find_by_type(q.owner_id, q.document_types):
                if t.result_code not in seen:
                    hits.append(p.ReuseHit(t.result_code, t.name, t.number_symbol, self.agency,
                                           ((t.file_name, f"sohoa://{info.province}/files/{t.sha256}"),),
                                           p.ReuseSource.PROVINCE, t.document_type, t.issued, t.stored_at))
        for resolver in self.resolvers:
            if hits:
                break
            consulted.append(resolver.source)
            try:
                hits.extend(resolver.find(q))
            except SohoaError as exc:
                log.warning("reuse source %s failed: %s", resolver.source.value, exc.message)
        self.db.log_lookup(info.device, enrolment.office, q, len(hits), "answered")
        answer = p.ReuseAnswer(tuple(hits), tuple(consulted), p.FOUND if hits else p.NOT_FOUND,
                               "" if hits else "not found")
        return answer, "answered"

    def _refused(self, info: p.TopicInfo, enrolment: Enrolment, q: p.ReuseQuery, code: int,
                 outcome: str) -> tuple[p.ReuseAnswer, str]:
        self.db.log_lookup(info.device, enrolment.office, q, 0, outcome)
        self.db.event("rejected", device=info.device, reason=f"reuse:{outcome}")
        log.warning("reuse look-up from %s refused: %s", info.device, outcome)
        return p.ReuseAnswer((), (), code, outcome), outcome
