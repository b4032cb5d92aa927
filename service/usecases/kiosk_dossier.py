"""The desk's dossier work after reception: search, detail, reopen, result draft, papers request, return.

The lifecycle is :mod:`service.usecases.dossier` (the store's dossier rows and their rules); the
kiosk adds what only it knows: the owner's name and the drafts (receipt, pages) of each dossier.
Times are shown and searched in the office's local time (UTC+7), dates as dd/mm/yyyy.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from service.config import Config
from service.desk.drafts import Draft, DraftComponent, DraftStore
from service.domain.dates import parse_vn_date
from service.domain.dossier import DossierRuleError, DossierStatus
from service.domain.errors import ConfigError
from service.errors import NotFoundError, ValidationError
from service.paths import Paths
from service.procedures.catalogue import ProcedureCatalogue
from service.receipts.papers_request import PapersRequest, render_papers_request
from service.usecases import dossier
from service.usecases.kiosk_desk import RESULT_DRAFT, VN_TZ

#: The component code of a result draft's one paper.
RESULT_COMPONENT = "KQ"
#: Every dossier status, in lifecycle order (the search form's choices).
STATUSES: tuple[str, ...] = tuple(s.value for s in DossierStatus)


@dataclass(frozen=True, slots=True)
class DossierQuery:
    """The desk's search form; every part is optional (dates are dd/mm/yyyy, inclusive)."""

    name: str = ""
    owner_id: str = ""
    code: str = ""
    status: str = ""
    date_from: str = ""
    date_to: str = ""


@dataclass(frozen=True, slots=True)
class DossierRow:
    """One dossier in the desk's list."""

    code: str
    procedure_code: str
    procedure_name: str
    owner_id: str
    owner_name: str
    status: str
    received: str  # dd/mm/yyyy HH:MM, local time


@dataclass(frozen=True, slots=True)
class DossierDetail:
    """A dossier's detail page: its rows, history and documents, and the desk's drafts of it."""

    row: DossierRow
    history: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    receipt_draft: str | None  # the reception draft, for reprinting the receipt
    components: list[tuple[str, str]] = field(default_factory=list)  # the procedure's (code, name)
    open_draft: str | None = None  # a draft of this dossier still being captured


def local_time(iso: str) -> str:
    """An ISO timestamp as ``dd/mm/yyyy HH:MM`` in the office's time zone."""
    try:
        value = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if value.tzinfo is not None:
        value = value.astimezone(VN_TZ)
    return f"{value:%d/%m/%Y %H:%M}"


def _fold(text: str) -> str:
    """Lower case without diacritics (đ → d), so "nguyen van" finds "Nguyễn Văn"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().split())


def _day(text: str, name: str) -> dt.date | None:
    return parse_vn_date(text, field_name=name) if text.strip() else None


def _names(drafts: DraftStore) -> dict[str, str]:
    """Dossier code → the owner's name the officer entered at reception."""
    out: dict[str, str] = {}
    for d in sorted(drafts.list(), key=lambda d: d.created_at, reverse=True):
        if d.dossier_code and d.owner_name:
            out.setdefault(d.dossier_code, d.owner_name)
    return out


def _row(rec: dict[str, Any], names: dict[str, str], cat: ProcedureCatalogue) -> DossierRow:
    try:
        pname = cat.procedure(rec["procedure"]).name if rec["procedure"] else ""
    except NotFoundError:
        pname = ""
    return DossierRow(rec["dossier"], rec["procedure"] or "", pname, rec["owner"] or "",
                      names.get(rec["dossier"], ""), rec["status"] or "", local_time(rec["created_at"]))


def search(query: DossierQuery, drafts: DraftStore, cat: ProcedureCatalogue, *, paths: Paths,
           config: Config, limit: int = 100) -> list[DossierRow]:
    """Dossiers matching every given part of ``query``, newest first (ValidationError for a bad date,
    identifier or status)."""
    start, end = _day(query.date_from, "date_from"), _day(query.date_to, "date_to")
    if start and end and end < start:
        raise ValidationError("date_to", "is before the start date", remedy="swap the two dates")
    recs = dossier.list_dossiers(status=query.status or None, owner_id=query.owner_id.strip() or None,
                                 paths=paths, config=config)
    names = _names(drafts)
    name, code = _fold(query.name), query.code.strip().upper()
    out = []
    for rec in recs:
        row = _row(rec, names, cat)
        day = dt.datetime.fromisoformat(rec["created_at"]).astimezone(VN_TZ).date()
        if (name and name not in _fold(row.owner_name)) or (code and code not in row.code.upper()) \
                or (start and day < start) or (end and day > end):
            continue
        out.append(row)
        if len(out) >= limit:
            break
    return out


def detail(code: str, drafts: DraftStore, cat: ProcedureCatalogue, *, paths: Paths, config: Config) -> DossierDetail:
    """One dossier with its history (local times), documents and the desk's drafts of it."""
    view = dossier.show(code, paths=paths, config=config)
    rec = {"dossier": view["dossier"], "procedure": view["procedure"], "owner": view["owner"],
           "status": view["status"], "created_at": view["history"][0]["at"] if view["history"] else ""}
    own = [d for d in drafts.list() if d.dossier_code == view["dossier"]]
    receipt = next((d.id for d in sorted(own, key=lambda d: d.created_at)
                    if d.state == "finalized" and d.kind != RESULT_DRAFT), None)
    still = next((d.id for d in own if d.state == "open"), None)
    history = [{**h, "at": local_time(h["at"])} for h in view["history"]]
    try:
        comps = [(c.code, c.name) for c in cat.procedure(view["procedure"]).components] if view["procedure"] else []
    except NotFoundError:
        comps = []
    return DossierDetail(_row(rec, _names(drafts), cat), history, view["documents"], receipt, comps, still)


def _new_draft(drafts: DraftStore, code: str, kind: str, officer_id: str, *, paths: Paths,
               config: Config, cat: ProcedureCatalogue) -> Draft:
    view = dossier.show(code, paths=paths, config=config)
    if view["status"] in ("returned", "withdrawn", "refused"):
        raise DossierRuleError(f"final_{view['status']}", f"the dossier is already {view['status']}")
    if kind != RESULT_DRAFT and view["status"] == DossierStatus.RESULT_READY.value:
        raise DossierRuleError("result_already_ready", "the result is already digitized; no more papers")
    proc = cat.procedure(view["procedure"])
    first = next((d for d in sorted(drafts.list(), key=lambda d: d.created_at) if d.dossier_code == code), None)
    d = drafts.create(kind, officer_id)
    d.dossier_code, d.owner_id = view["dossier"], view["owner"] or ""
    d.owner_name = first.owner_name if first else ""
    d.owner_birth_date = first.owner_birth_date if first else ""
    d.owner_source = "dossier"
    d.procedure_code, d.procedure_name, d.return_days = proc.code, proc.name, proc.return_days
    d.received_at = first.received_at if first and first.received_at else dt.datetime.now(VN_TZ).isoformat(
        timespec="seconds")
    d.return_date = first.return_date if first and first.return_date else d.received_at[:10]
    if kind == RESULT_DRAFT:
        if proc.result_type is None:
            raise ConfigError(f"procedure {proc.code} has no result type code in the catalogue",
                              remedy="import a catalogue whose procedure has 'result_type'")
        d.components = [DraftComponent(RESULT_COMPONENT, "Kết quả giải quyết thủ tục hành chính", 1,
                                       document_type=proc.result_type)]
    drafts.save(d)
    return d


def reopen(code: str, drafts: DraftStore, officer_id: str, *, paths: Paths, config: Config,
           cat: ProcedureCatalogue) -> Draft:
    """A new draft adding components to dossier ``code`` (e.g. the additional papers asked for)."""
    return _new_draft(drafts, code, "officer", officer_id, paths=paths, config=config, cat=cat)


def result_draft(code: str, drafts: DraftStore, officer_id: str, *, paths: Paths, config: Config,
                 cat: ProcedureCatalogue) -> Draft:
    """A draft capturing the procedure's result of dossier ``code`` (refused once the result exists)."""
    view = dossier.show(code, paths=paths, config=config)
    if any(doc["kind"] == "result" for doc in view["documents"]):
        raise DossierRuleError("result_exists", "the dossier already has a digitized result")
    if view["status"] == DossierStatus.ADDITIONAL_PAPERS_REQUESTED.value:
        raise DossierRuleError("transition_refused", "the dossier waits for additional papers")
    return _new_draft(drafts, code, RESULT_DRAFT, officer_id, paths=paths, config=config, cat=cat)


def request_papers(code: str, reason: str, components: list[str], actor: str, *, paths: Paths,
                   config: Config) -> None:
    """Ask for additional papers (the lifecycle rules refuse an empty reason or list)."""
    dossier.request_papers(code, reason, tuple(components), actor=actor, paths=paths, config=config)


def return_result(code: str, actor: str, *, paths: Paths, config: Config) -> None:
    """Record that the result was handed back (refused without a result signed by both)."""
    dossier.return_dossier(code, actor=actor, paths=paths, config=config)


def papers_slip_pdf(code: str, drafts: DraftStore, cat: ProcedureCatalogue, *, paths: Paths, config: Config,
                    office_name: str, issuing_system: str, officer_name: str, printed_at: dt.datetime) -> bytes:
    """The printed slip of the latest additional-papers request (phiếu yêu cầu bổ sung hồ sơ)."""
    view = dossier.show(code, paths=paths, config=config)
    asked = [h for h in view["history"] if h["status"] == DossierStatus.ADDITIONAL_PAPERS_REQUESTED.value]
    if not asked:
        raise NotFoundError(f"dossier {code} has no additional-papers request")
    last = asked[-1]
    det = detail(code, drafts, cat, paths=paths, config=config)
    names, row = dict(det.components), det.row
    return render_papers_request(PapersRequest(
        dossier_code=row.code, procedure_code=row.procedure_code, procedure_name=row.procedure_name,
        owner_id=row.owner_id, owner_name=row.owner_name, office_name=office_name, issuing_system=issuing_system,
        officer_name=officer_name, requested_at=dt.datetime.fromisoformat(last["at"]).astimezone(VN_TZ),
        printed_at=printed_at, reason=last.get("reason", ""),
        papers=tuple(names.get(c, c) for c in last.get("components", []))))
