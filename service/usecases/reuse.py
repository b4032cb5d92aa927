"""Reuse first (TT 01/2023 Art. 25.3 order): an owner's earlier papers, own store, then the province.

``find_reuse`` offers the owner's papers of the wanted document types: those of the local store
first, then the province's (asked by owner identifier and document type, under a dossier this
office holds for the owner). Each province answer is cached per owner and type (store table
``reuse_cache``); when the link is down, or ``offline`` is asked, the cache answers and each
candidate says how old it is. Answers older than ``sync.reuse_cache_max_age_h`` are never offered.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from service.config import Config, load_config
from service.domain.dates import DateStyle, format_vn_date
from service.domain.errors import ConfigError, NotFoundError, SyncError
from service.paths import Paths, get_paths
from service.procedures.catalogue import Component
from service.store.store import Store
from service.store.types import StoredDocument
from service.sync import protocol as p
from service.sync.device import ask_province
from service.sync.reuse_msgs import MAX_TYPES

log = logging.getLogger("sohoa.reuse")

LOCAL, PROVINCE, CACHE = "local", "province", "cache"
VN_TZ = dt.timezone(dt.timedelta(hours=7))

#: How the province step ended: asked and answered, nothing found, refused (no dossier of this owner
#: in this office), rate-limited, offline (the cache answered), skipped (offline asked, no dossier or
#: no type to ask by), disabled (sync is off).
ANSWERED, NOT_FOUND, REFUSED, RATE_LIMITED, OFFLINE, SKIPPED, DISABLED = (
    "answered", "not-found", "refused", "rate-limited", "offline", "skipped", "disabled")

@dataclass(frozen=True, slots=True)
class Candidate:
    """A paper that may be reused for a component, and what the desk can show of it."""

    source: str  # local | province | cache
    result_code: str
    document_type: str | None
    name: str
    date: str | None  # issue date (ISO) when known, else the day it was stored
    number_symbol: str | None = None
    agency: str | None = None
    answered_at: str | None = None  # province / cache: when the province gave this answer (ISO, UTC)
    age_s: int | None = None  # cache: how old the answer is
    page_sha: str | None = None  # local: the first page image
    pdf_sha: str | None = None  # local: the current PDF, while the box still holds it
    pdf_link: str | None = None  # province: the PDF, when the gateway serves it over HTTP(S)

    @property
    def answered_vn(self) -> str | None:
        """When the province answered, ``dd/mm/yyyy HH:MM`` in office time (None for a local paper)."""
        if not self.answered_at:
            return None
        return f"{dt.datetime.fromisoformat(self.answered_at).astimezone(VN_TZ):%d/%m/%Y %H:%M}"

    @property
    def updated(self) -> str | None:
        """``cập nhật lúc dd/mm/yyyy HH:MM`` of a province or cached answer."""
        return f"cập nhật lúc {self.answered_vn}" if self.answered_vn else None

    @property
    def date_vn(self) -> str:
        """The date as dd/mm/yyyy ('' when unknown)."""
        try:
            return format_vn_date(dt.date.fromisoformat((self.date or "")[:10]), DateStyle.NUMERIC)
        except ValueError:
            return ""

    def to_json(self) -> dict[str, Any]:
        """The CLI's form."""
        return {"source": self.source, "result_code": self.result_code, "document_type": self.document_type,
                "name": self.name, "date": self.date, "number_symbol": self.number_symbol, "agency": self.agency,
                "answered_at": self.answered_at, "cache_age_s": self.age_s, "updated": self.updated,
                "preview": {"page": bool(self.page_sha), "pdf": bool(self.pdf_sha) or bool(self.pdf_link),
                            "pdf_link": self.pdf_link}}


@dataclass(frozen=True, slots=True)
class Finding:
    """The candidates, local first, and how the province step ended."""

    candidates: tuple[Candidate, ...]
    province: str

    def for_types(self, wanted: tuple[str, ...]) -> list[Candidate]:
        """The candidates of these document types (``PREFIX.`` entries match by prefix)."""
        return [c for c in self.candidates if type_matches(c.document_type, wanted)]


def expected_types(procedure_code: str, component: Component) -> tuple[str, ...]:
    """What a component accepts: its catalogue document types, else the procedure's own component
    papers (``{procedure}.{component}.`` prefix, the default component type template)."""
    return component.document_types or (f"{procedure_code}.{component.code}.",)


def type_matches(code: str | None, wanted: tuple[str, ...]) -> bool:
    """Whether a document type is one of ``wanted`` (an entry ending in ``.`` is a prefix; none: any)."""
    if not wanted:
        return True
    if code is None:
        return False
    return any(code == w or (w.endswith(".") and code.startswith(w)) for w in wanted)


def find_reuse(owner_id: str, document_types: tuple[str, ...] = (), *, dossier_id: str | None = None,
               procedure_code: str | None = None, offline: bool = False, paths: Paths | None = None,
               config: Config | None = None, now: dt.datetime | None = None) -> Finding:
    """The owner's reusable papers of ``document_types`` (all types when empty): own store, then province.

    The province is asked by owner and the exact types (prefix entries stay local) when a dossier
    is given; it answers only for a dossier this office holds for the owner. ``procedure_code``
    defaults to the stored dossier's.
    """
    paths = paths or get_paths().ensure()
    cfg = config or load_config(paths.config)
    now = now or dt.datetime.now(dt.UTC)
    oldest = (now - dt.timedelta(hours=cfg.sync.reuse_cache_max_age_h)).isoformat(timespec="microseconds")
    exact = tuple(t for t in document_types if not t.endswith("."))
    with Store.open(paths) as store:
        store.drop_reuse_cache(before=oldest)
        local = [_local(store, d) for d in store.documents_of_owner(owner_id)
                 if type_matches(d.document_type_code, document_types)]
        if dossier_id and not procedure_code:
            try:
                procedure_code = store.dossier(dossier_id).procedure_code
            except NotFoundError:  # a dossier the province registered for this office, not opened here
                procedure_code = None
    outcome, remote = _province(owner_id, exact, dossier_id, procedure_code, offline, paths, cfg, now)
    if outcome in (OFFLINE, SKIPPED, RATE_LIMITED):
        with Store.open(paths) as store:
            remote = [_cached(h, a.answered_at, now) for a in store.cached_reuse_answers(owner_id, exact, oldest)
                      for h in _hits(a.hits_json)]
    known = {c.result_code for c in local}
    seen: set[str] = set()
    extra = []
    for c in remote:
        if c.result_code not in known | seen and type_matches(c.document_type, exact or document_types):
            seen.add(c.result_code)
            extra.append(c)
    return Finding(tuple(local + extra), outcome)


def _province(owner_id: str, types: tuple[str, ...], dossier_id: str | None, procedure_code: str | None,
              offline: bool, paths: Paths, cfg: Config, now: dt.datetime) -> tuple[str, list[Candidate]]:
    if not cfg.sync.enabled:
        return DISABLED, []
    if offline or not dossier_id or not types or not owner_id:
        return SKIPPED, []
    query = p.ReuseQuery(procedure_code or "-", (), owner_id=owner_id, dossier_code=dossier_id,
                         document_types=types[:MAX_TYPES])
    try:
        answer = ask_province(paths, cfg, query, cfg.sync.reuse_timeout_s)
    except (SyncError, ConfigError) as exc:
        log.info("province reuse look-up unavailable (%s): answering from the cache", exc.__class__.__name__)
        return OFFLINE, []
    at = now.isoformat(timespec="microseconds")
    with Store.open(paths) as store:
        if answer.error_code == p.NOT_AUTHORISED:  # no longer ours to see: forget what was kept
            store.drop_reuse_cache(owner_id=owner_id)
            return REFUSED, []
        if answer.error_code == p.RATE_LIMITED:
            return RATE_LIMITED, []
        for t in types:
            mine = [h.to_json() for h in answer.hits if h.document_type == t or (h.document_type is None
                                                                                  and len(types) == 1)]
            store.cache_reuse_answer(owner_id, t, json.dumps(mine, ensure_ascii=False), at)
    return (ANSWERED if answer.hits else NOT_FOUND), [_remote(h, PROVINCE, at, None) for h in answer.hits]


def _hits(text: str) -> list[p.ReuseHit]:
    try:
        return [p.ReuseHit.from_json(h) for h in json.loads(text)]
    except (ValueError, KeyError, TypeError):
        log.warning("a cached reuse answer is unreadable; it is ignored")
        return []


def _cached(hit: p.ReuseHit, answered_at: str, now: dt.datetime) -> Candidate:
    age = int((now - dt.datetime.fromisoformat(answered_at)).total_seconds())
    return _remote(hit, CACHE, answered_at, max(age, 0))


def _remote(hit: p.ReuseHit, source: str, answered_at: str, age_s: int | None) -> Candidate:
    link = next((path for _, path in hit.files if path.startswith(("https://", "http://"))), None)
    return Candidate(source, hit.result_code, hit.document_type, hit.name, hit.issued or hit.stored_at,
                     hit.number_symbol, hit.agency, answered_at, age_s, pdf_link=link)


def _local(store: Store, d: StoredDocument) -> Candidate:
    meta = d.metadata
    issued = meta.issue_date.value if meta.issue_date is not None else None
    page = next((pg.sha256 for pg in d.pages if not pg.blank), d.pages[0].sha256 if d.pages else None)
    return Candidate(LOCAL, d.result_code, d.document_type_code,
                     meta.document_name.value if meta.document_name is not None else "", issued or d.created_at[:10],
                     meta.number_symbol.value if meta.number_symbol is not None else None,
                     meta.issuing_agency.value if meta.issuing_agency is not None else None,
                     page_sha=page if page and store.files.exists(page) else None,
                     pdf_sha=d.pdf_sha256 if store.files.exists(d.pdf_sha256) else None)


def open_preview(result_code: str, kind: str, *, owner_id: str, paths: Paths | None = None) -> tuple[bytes, str]:
    """The first page image (``page``) or the PDF (``pdf``) of a local paper of ``owner_id``, with its type."""
    paths = paths or get_paths().ensure()
    with Store.open(paths) as store:
        d = store.get(result_code)
        if not owner_id or d.owner_id != owner_id:
            raise NotFoundError("no such paper of this owner")
        c = _local(store, d)
        sha = c.page_sha if kind == "page" else c.pdf_sha
        if sha is None:
            raise NotFoundError("the box no longer holds this file", remedy="ask the province for the paper")
        media = next((pg.media_type for pg in d.pages if pg.sha256 == sha), "image/png") if kind == "page" \
            else "application/pdf"
        return store.files.get(sha), media

