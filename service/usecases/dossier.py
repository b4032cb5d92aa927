"""The dossier's life at the one-stop-shop: open → papers → result → return (``sohoa dossier …``).

Every paper goes through the one spine, :func:`service.usecases.procedure.run`, with the dossier,
its kind (``component`` | ``result``) and the component code; the lifecycle rules are
:mod:`service.domain.dossier`, the rows :class:`service.store.Store`. A component's document type
comes from ``codes.component_type_template`` unless one is given; the result's from the catalogue
(``result_type``), and the result is signed by the officer, then the agency.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.capture import RawPage
from service.config import Config, load_config
from service.domain import dossier as rules
from service.domain.dossier import DossierRuleError, DossierStatus
from service.domain.errors import ConfigError, StoreError
from service.domain.fields import FieldValue
from service.domain.identifiers import parse_identifier
from service.domain.result_code import component_document_type_code
from service.ocr.types import OcrPage
from service.paths import Paths, get_paths
from service.procedures.catalogue import Procedure, ProcedureCatalogue, all_procedures, load_catalogue
from service.signing.signer import PinProvider, SignatureRole
from service.store import DocumentKind, DossierRecord, Store
from service.usecases.audit_key import open_store
from service.usecases.digitize import DigitizeRequest, DigitizeResult
from service.usecases.procedure import ProcedureResult, SignStep, run

log = logging.getLogger(__name__)

#: The development sample, next to the kiosk (the catalogue imported on the desk takes precedence).
SAMPLE_CATALOGUE = Path(__file__).resolve().parents[2] / "kiosk_ui" / "data" / "catalogue.sample.json"
_MAX_DAILY = 9999


def catalogue(paths: Paths | None = None, *, fallback: Path | None = None) -> ProcedureCatalogue:
    """The active procedure catalogue: the one imported on the desk, else ``fallback`` (the sample)."""
    p = paths or get_paths()
    return load_catalogue(p.home / "kiosk" / "catalogue.json", fallback or SAMPLE_CATALOGUE)


def procedures_json(cat: ProcedureCatalogue) -> list[dict[str, Any]]:
    """The ``sohoa procedures --json`` contract."""
    return [{"code": p.code, "name": p.name,
             "components": [{"code": c.code, "name": c.name, "required": c.required} for c in p.components],
             "result_type": p.result_type} for p in all_procedures(cat)]


def _ctx(paths: Paths | None, config: Config | None) -> tuple[Paths, Config]:
    p = paths or get_paths()
    return p, config or load_config(p.config)


def _status(rec: DossierRecord) -> DossierStatus:
    if rec.status is None:
        raise DossierRuleError("no_lifecycle", f"dossier {rec.id} was stored before dossiers had a status",
                               remedy="open a new dossier with 'sohoa dossier open'")
    return DossierStatus(rec.status)


def open_dossier(procedure_code: str, owner_id: str, *, actor: str = "officer", paths: Paths | None = None,
                 config: Config | None = None, now: dt.datetime | None = None) -> DossierRecord:
    """Receive a dossier for ``owner_id`` under ``procedure_code``; its code is ``<unit>-YYMMDD-XXXX``."""
    p, cfg = _ctx(paths, config)
    proc = catalogue(p).procedure(procedure_code.strip())
    owner = parse_identifier(owner_id).value
    day = (now or dt.datetime.now()).strftime("%y%m%d")
    prefix = f"{cfg.identity.unit_code}-{day}-"
    with open_store(p, cfg) as store, store.code_lock():
        used = [int(i[len(prefix):]) for i in store.dossier_ids(prefix) if i[len(prefix):].isdigit()]
        seq = max(used, default=0) + 1
        if seq > _MAX_DAILY:
            raise StoreError("more than 9999 dossiers were opened today", remedy="open it tomorrow")
        return store.open_dossier(f"{prefix}{seq:04d}", procedure_code=proc.code, owner_id=owner,
                                  status=DossierStatus.RECEIVED.value, actor=actor)


def _transition(dossier_id: str, after: DossierStatus, *, actor: str, paths: Paths | None, config: Config | None,
                reason: str | None = None, components: tuple[str, ...] = ()) -> DossierRecord:
    p, cfg = _ctx(paths, config)
    with open_store(p, cfg) as store:
        rec = store.dossier(dossier_id)
        before = _status(rec)
        known = None
        if after is DossierStatus.ADDITIONAL_PAPERS_REQUESTED and before not in rules.FINAL:
            known = [c.code for c in _procedure(rec, p).components]
        stored = any(kind == DocumentKind.RESULT.value for _, kind, _ in store.dossier_documents(rec.id))
        if after is DossierStatus.RETURNED and before is DossierStatus.RESULT_READY \
                and not _has_signed_result(store, rec.id):
            raise DossierRuleError("result_unsigned", "the result does not carry both the officer's and the "
                                   "agency's signatures yet",
                                   remedy="sign it with 'sohoa sign CODE' and 'sohoa sign CODE --role agency'")
        t = rules.check_transition(before, after, reason=reason, components=components, known_components=known,
                                   has_result=stored)
        return store.set_dossier_status(rec.id, t.after.value, expected=before.value, actor=actor,
                                        reason=t.reason, components=t.components)


def request_papers(dossier_id: str, reason: str, components: tuple[str, ...], *, actor: str = "officer",
                   paths: Paths | None = None, config: Config | None = None) -> DossierRecord:
    """Ask the applicant for more papers (yêu cầu bổ sung): the components and why."""
    return _transition(dossier_id, DossierStatus.ADDITIONAL_PAPERS_REQUESTED, actor=actor, paths=paths,
                       config=config, reason=reason, components=components)


def return_dossier(dossier_id: str, *, actor: str = "officer", paths: Paths | None = None,
                   config: Config | None = None) -> DossierRecord:
    """Record that the result was handed back (trả kết quả); needs the signed result."""
    return _transition(dossier_id, DossierStatus.RETURNED, actor=actor, paths=paths, config=config)


def withdraw(dossier_id: str, reason: str, *, actor: str = "officer", paths: Paths | None = None,
             config: Config | None = None) -> DossierRecord:
    """The applicant withdrew the dossier (with the reason)."""
    return _transition(dossier_id, DossierStatus.WITHDRAWN, actor=actor, paths=paths, config=config, reason=reason)


def refuse(dossier_id: str, reason: str, *, actor: str = "officer", paths: Paths | None = None,
           config: Config | None = None) -> DossierRecord:
    """The office refused the dossier (with the reason)."""
    return _transition(dossier_id, DossierStatus.REFUSED, actor=actor, paths=paths, config=config, reason=reason)


def _procedure(rec: DossierRecord, paths: Paths) -> Procedure:
    if rec.procedure_code is None:
        raise DossierRuleError("no_lifecycle", f"dossier {rec.id} has no procedure",
                               remedy="open a new dossier with 'sohoa dossier open'")
    return catalogue(paths).procedure(rec.procedure_code)


def _has_signed_result(store: Store, dossier_id: str) -> bool:
    for doc_id, kind, _ in store.dossier_documents(dossier_id):
        if kind == DocumentKind.RESULT.value:
            roles = {s.role for s in store.signatures_of(doc_id)}
            if {SignatureRole.OFFICER.value, SignatureRole.AGENCY.value} <= roles:
                return True
    return False


@dataclass(frozen=True, slots=True)
class Paper:
    """One paper to digitize into a dossier: its pages and the spine's options."""

    pages: tuple[RawPage, ...]
    fields: Mapping[str, FieldValue]
    declared_pages: int | None = None
    mismatch_reason: str | None = None
    duplex: bool = False
    sticky_notes: tuple[int, ...] = ()
    run_ocr: bool = False
    extract_fields: bool = False
    #: values the officer confirmed on the review screen (typed > reviewed > extracted)
    reviewed: Mapping[str, FieldValue] = field(default_factory=dict)
    #: the pages' OCR already made for the review (no second reading)
    ocr_pages: tuple[OcrPage | None, ...] | None = None
    #: each page's side as captured (a blank back after a page is not counted)
    sides: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AttachResult:
    """A paper stored in its dossier, and whether its extracted owner differs from the dossier's."""

    procedure: ProcedureResult
    owner_differs: bool
    pdf: Path
    sha256: str
    queued: bool

    def to_json(self) -> dict[str, Any]:
        """``result_code``, the current (signed) ``pdf`` and its ``sha256``, ``pages``, ``queued``."""
        d = self.procedure.digitized
        return {"result_code": d.result_code, "pdf": str(self.pdf), "sha256": self.sha256, "pages": d.pages,
                "queued": self.queued}


def attach_component(dossier_id: str, component_code: str, paper: Paper, *, document_type_code: str | None = None,
                     owner_id: str | None = None, actor: str = "officer", signing: SignStep | None = None,
                     paths: Paths | None = None, config: Config | None = None,
                     on_stored: Callable[[DigitizeResult], None] | None = None) -> AttachResult:
    """Digitize one component of the dossier through the spine (document type from the template).

    ``on_stored`` is told once the paper is stored, before its signature (a resumable caller
    records the result code there, so a failed signature does not store it twice).
    """
    p, cfg = _ctx(paths, config)
    with open_store(p, cfg) as store:
        rec, status, proc = _component_target(store, dossier_id, component_code, p)
        seq = 1 + sum(1 for _, kind, code in store.dossier_documents(rec.id)
                      if kind == DocumentKind.COMPONENT.value and code == component_code)
    owner = _owner(rec, owner_id)
    doc_type = document_type_code or component_document_type_code(
        proc.code, component_code, seq, template=cfg.codes.component_type_template)
    result = _run(rec, paper, doc_type, owner, DocumentKind.COMPONENT, component_code, actor, signing, p, cfg,
                  on_stored=on_stored)
    nxt = rules.after_component(status)
    if nxt is not None:
        _transition(rec.id, nxt, actor=actor, paths=p, config=cfg)
    return result


def _component_target(store: Store, dossier_id: str, component_code: str,
                      p: Paths) -> tuple[DossierRecord, DossierStatus, Procedure]:
    """The dossier, its status and procedure, once the rules allow it one more ``component_code``."""
    rec = store.dossier(dossier_id)
    status = _status(rec)
    rules.can_attach(status)
    rules.after_component(status)  # refuses once the result is ready
    proc = _procedure(rec, p)
    rules.check_components([component_code], [c.code for c in proc.components])
    return rec, status, proc


def reuse_paper(dossier_id: str, component_code: str, result_code: str, *, actor: str = "officer",
                paths: Paths | None = None, config: Config | None = None,
                from_province: bool = False) -> DossierRecord:
    """Attach the owner's earlier paper ``result_code`` as the component ``component_code`` instead of a new scan.

    TT 01/2023 Art. 25.3 puts reuse first, and the monthly report counts each reuse. The paper is a
    stored document of the dossier's owner, or with ``from_province`` one the province answered for
    this owner (not stored on the box: the record keeps only its result code's SHA-256). The first
    paper moves a received or papers-requested dossier to ``in_progress``, as a digitized one does.
    """
    p, cfg = _ctx(paths, config)
    with open_store(p, cfg) as store:
        rec, status, _proc = _component_target(store, dossier_id, component_code, p)
        document_id: str | None = None
        reference: str | None = None
        if from_province:
            reference = hashlib.sha256(result_code.encode("utf-8")).hexdigest()
        else:
            doc = store.get(result_code)
            if rec.owner_id and doc.owner_id != rec.owner_id:
                raise DossierRuleError("owner_differs", "the paper belongs to another owner than the dossier's",
                                       remedy="reuse only papers of the dossier's owner")
            if doc.dossier_id == rec.id:
                raise DossierRuleError("reuse_own", "the paper is already part of this dossier",
                                       remedy="reuse a paper of an earlier dossier")
            document_id = doc.id
        if any(code == component_code for code, _ in store.dossier_reuses(rec.id)):
            raise DossierRuleError("reuse_twice", f"component {component_code} is already reused in this dossier")
        store.record_reuse(rec.id, component_code, document_id, actor=actor, province_reference=reference)
    nxt = rules.after_component(status)
    if nxt is not None:
        return _transition(rec.id, nxt, actor=actor, paths=p, config=cfg)
    return rec


def digitize_result(dossier_id: str, paper: Paper, pin_provider: PinProvider | None, *, actor: str = "officer",
                    paths: Paths | None = None, config: Config | None = None,
                    on_stored: Callable[[DigitizeResult], None] | None = None) -> AttachResult:
    """Digitize the procedure's result (KQ type from the catalogue), signed by officer then agency.

    The dossier is result-ready as soon as the result is stored; a signature that fails (wrong PIN,
    card pulled) leaves it stored, and ``sohoa sign CODE [--role agency]`` completes it before the return.
    """
    p, cfg = _ctx(paths, config)
    with open_store(p, cfg) as store:
        rec = store.dossier(dossier_id)
        status = _status(rec)
        if any(kind == DocumentKind.RESULT.value for _, kind, _ in store.dossier_documents(rec.id)):
            raise DossierRuleError("result_exists", "the dossier already has a digitized result",
                                   remedy="sign it with 'sohoa sign CODE --role agency' if a signature is missing")
        rules.check_transition(status, DossierStatus.RESULT_READY, has_result=True)
    proc = _procedure(rec, p)
    if proc.result_type is None:
        raise ConfigError(f"procedure {proc.code} has no result type code in the catalogue",
                          remedy="import a catalogue whose procedure has 'result_type' (e.g. KQ.G15.000031)")
    step = SignStep((SignatureRole.OFFICER, SignatureRole.AGENCY), pin_provider, actor=actor)

    def ready(stored: DigitizeResult) -> None:  # before the signatures: a failed one leaves a ready result
        _transition(rec.id, DossierStatus.RESULT_READY, actor=actor, paths=p, config=cfg)
        if on_stored is not None:
            on_stored(stored)

    return _run(rec, paper, proc.result_type, _owner(rec, None), DocumentKind.RESULT, None, actor, step, p, cfg,
                on_stored=ready)


def _owner(rec: DossierRecord, given: str | None) -> str | None:
    """The dossier's owner; a different ``given`` owner is refused (the owner is the dossier's)."""
    if given is not None and given.strip() and rec.owner_id and parse_identifier(given).value != rec.owner_id:
        raise DossierRuleError("owner_differs", "the owner given is not the dossier's owner",
                               remedy="leave --owner out: papers of a dossier belong to its owner")
    return rec.owner_id or (given.strip() if given else None)


def _run(rec: DossierRecord, paper: Paper, doc_type: str, owner: str | None, kind: DocumentKind,
         component_code: str | None, actor: str, signing: SignStep | None, p: Paths, cfg: Config,
         on_stored: Callable[[DigitizeResult], None] | None = None) -> AttachResult:
    request = DigitizeRequest(
        pages=paper.pages, document_type_code=doc_type, owner_id=owner, fields=paper.fields,
        declared_pages=paper.declared_pages, mismatch_reason=paper.mismatch_reason, duplex=paper.duplex,
        sticky_notes=paper.sticky_notes, run_ocr=paper.run_ocr, extract_fields=paper.extract_fields,
        dossier_id=rec.id, actor=actor, kind=kind, component_code=component_code, reviewed=paper.reviewed,
        ocr_pages=paper.ocr_pages, sides=paper.sides)
    outcome = run(request, paths=p, config=cfg, signing=signing, on_stored=on_stored)
    found = outcome.extraction.get("owner_id") if outcome.extraction is not None else None
    differs = rules.owner_mismatch(rec.owner_id, found.value if found is not None else None)
    if differs:
        log.warning("document %s: the extracted owner identifier differs from the dossier's owner",
                    outcome.digitized.document_id)
    with open_store(p, cfg) as store:
        current = store.get(outcome.digitized.document_id)
        pdf = store.files.path_for(current.pdf_sha256)
        queued = any(r.pdf_sha256 == current.pdf_sha256 and r.state.value == "queued"
                     for r in store.outbox_for(current.id))
    return AttachResult(outcome, differs, pdf, current.pdf_sha256, queued)


def list_dossiers(*, status: str | None = None, owner_id: str | None = None, paths: Paths | None = None,
                  config: Config | None = None) -> list[dict[str, Any]]:
    """Dossiers newest first (``sohoa dossier list --json``)."""
    p, cfg = _ctx(paths, config)
    wanted = rules.parse_status(status).value if status else None
    owner = parse_identifier(owner_id).value if owner_id else None
    with open_store(p, cfg) as store:
        return [{"dossier": r.id, "procedure": r.procedure_code, "owner": r.owner_id, "status": r.status,
                 "created_at": r.created_at} for r in store.list_dossiers(status=wanted, owner_id=owner)]


def show(dossier_id: str, *, paths: Paths | None = None, config: Config | None = None) -> dict[str, Any]:
    """One dossier with its history and documents (``sohoa dossier show --json``)."""
    p, cfg = _ctx(paths, config)
    with open_store(p, cfg) as store:
        rec = store.dossier(dossier_id)
        history = [{"status": h.status, "at": h.at, "actor": h.actor,
                    **({"reason": h.reason} if h.reason else {}),
                    **({"components": list(h.components)} if h.components else {})}
                   for h in store.dossier_history(rec.id)]
        docs = []
        for doc_id, _, _ in store.dossier_documents(rec.id):
            d = store.get(doc_id)
            docs.append({"result_code": d.result_code, "kind": d.kind.value, "state": d.state.value,
                         "pdf": str(store.files.path_for(d.pdf_sha256)),
                         **({"component": d.component_code} if d.component_code else {})})
    return {"dossier": rec.id, "procedure": rec.procedure_code, "owner": rec.owner_id, "status": rec.status,
            "history": history, "documents": docs}
