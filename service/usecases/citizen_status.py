"""A dossier's status as the citizen at the kiosk understands it (no names, no identifiers).

The dossier lifecycle (``service.domain.dossier``) says where a dossier stands; a citizen reads
it as: đang giải quyết (received, in progress), cần bổ sung (additional papers requested, with
the papers asked for), đã có kết quả (result ready: come and collect it), đã trả kết quả
(returned), đã rút (withdrawn) or bị từ chối (refused). A dossier received at this desk before it
was carried through the lifecycle (a finalized draft only) reads as đang giải quyết.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service.desk.drafts import DraftStore
from service.domain.dates import DateStyle, format_vn_date
from service.domain.dossier import DossierStatus
from service.errors import NotFoundError
from service.paths import Paths
from service.procedures.catalogue import ProcedureCatalogue
from service.store.store import Store
from service.usecases.kiosk_desk import add_working_days

#: lifecycle status -> what the citizen page says (a message key ``citizen.state.<value>``)
CITIZEN_STATE: dict[DossierStatus, str] = {
    DossierStatus.RECEIVED: "processing",
    DossierStatus.IN_PROGRESS: "processing",
    DossierStatus.ADDITIONAL_PAPERS_REQUESTED: "needs_papers",
    DossierStatus.RESULT_READY: "result_ready",
    DossierStatus.RETURNED: "returned",
    DossierStatus.WITHDRAWN: "withdrawn",
    DossierStatus.REFUSED: "refused",
}
CODE_MAX = 64


@dataclass(frozen=True, slots=True)
class CitizenStatus:
    """What the look-up shows: code, procedure, dates (dd/mm/yyyy), the state and the papers asked for."""

    dossier_code: str
    procedure_name: str
    received: str
    return_date: str
    state: str  # processing | needs_papers | result_ready | returned | withdrawn | refused
    since: str
    requested: tuple[str, ...] = ()


def _vn(iso: str) -> str:
    try:
        return format_vn_date(dt.date.fromisoformat(iso[:10]), DateStyle.NUMERIC)
    except ValueError:
        return ""


def citizen_status(code: str, *, drafts: DraftStore, paths: Paths,
                   catalogue: ProcedureCatalogue) -> CitizenStatus | None:
    """The status of dossier ``code`` (a lifecycle dossier, else a finalized desk draft); None when unknown."""
    code = code.strip()
    if not code or len(code) > CODE_MAX:
        return None
    draft = next((d for d in drafts.list(state="finalized") if d.dossier_code == code), None)
    with Store.open(paths) as store:
        try:
            rec = store.dossier(code)
        except NotFoundError:
            rec = None
        history = store.dossier_history(code) if rec is not None and rec.status else []
    if rec is None or not rec.status:
        if draft is None:
            return None
        return CitizenStatus(code, draft.procedure_name, _vn(draft.received_at), _vn(draft.return_date), "processing",
                             _vn(draft.received_at))
    try:
        proc = catalogue.procedure(rec.procedure_code or "")
        name, days = proc.name, proc.return_days
        names = {c.code: c.name for c in proc.components}
    except NotFoundError:
        name, days, names = (draft.procedure_name if draft else ""), 0, {}
    if draft is not None and draft.return_date:
        promised = _vn(draft.return_date)
    else:
        promised = _vn(add_working_days(dt.date.fromisoformat(rec.created_at[:10]), days).isoformat()) if days else ""
    status = DossierStatus(rec.status)
    last = history[-1] if history else None
    requested = tuple(names.get(c, c) for c in last.components) \
        if last is not None and status is DossierStatus.ADDITIONAL_PAPERS_REQUESTED else ()
    return CitizenStatus(code, name, _vn(rec.created_at), promised, CITIZEN_STATE[status],
                         _vn(last.at) if last is not None else _vn(rec.created_at), requested)

