"""The desk's long steps: card sign-in, ID-card QR, OCR + extraction, digitize + sign + queue, status.

Each step calls the owning room's use case or module (signing pool, extraction, OCR engine,
``digitize``, ``sign_document``) and records its progress in the draft, so a step interrupted by
a fault (wrong PIN, card pulled, power cut) can simply be run again: components already stored
are not stored twice, documents already signed are not signed twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from service.capture.rules import RawPage
from service.config import Config
from service.desk.drafts import Draft, DraftComponent, DraftStore
from service.domain.dossier import FINAL as FINAL_STATUSES
from service.domain.dossier import DossierRuleError
from service.domain.dossier import DossierStatus as DossierStatusCode
from service.domain.fields import FieldSource, FieldValue
from service.errors import NotFoundError, SohoaError, ValidationError
from service.extract.qr import decode_qr_image, parse_cccd_qr, read_cccd_qr_image
from service.paths import Paths
from service.signing import pool
from service.signing.errors import PinIncorrect, TokenAbsent, TokenLocked, TokenRemoved
from service.signing.signer import SignatureRole
from service.usecases import dossier, procedure
from service.usecases.digitize import DigitizeResult
from service.usecases.dossier import Paper
from service.usecases.kiosk_desk import RESULT_DRAFT, add_working_days, set_owner
from service.usecases.kiosk_desk import discard_draft as discard_plain
from service.usecases.kiosk_records import DocumentStatus, document_status, signed_roles
from service.usecases.progress import Progress

__all__ = ["CardHolder", "DossierStatus", "PinIncorrect", "TokenAbsent", "TokenLocked", "TokenRemoved",
           "card_login", "card_logout", "card_present", "discard_draft", "dossier_status", "extract_draft",
           "finalize_draft", "owner_from_qr", "owner_from_qr_image", "qr_texts", "receive_dossier", "received_here",
           "release_cards"]

log = logging.getLogger("sohoa.kiosk")



@dataclass(frozen=True, slots=True)
class CardHolder:
    """The officer named by the card's certificate; ``user_id`` is a hash, not personal data."""

    name: str
    user_id: str


@dataclass(frozen=True, slots=True)
class DossierStatus:
    """A dossier's status for the citizen lookup and the receipt screen (no personal data)."""

    dossier_code: str
    procedure_name: str
    received_at: str
    return_date: str
    overall: str  # received | queued | synced | problem
    documents: dict[str, DocumentStatus] = field(default_factory=dict)


def card_login(pin: str, *, paths: Paths, config: Config) -> CardHolder:
    """Check the PIN on the officer's card (a fresh login, so the PIN is really verified)."""
    pool.logout(SignatureRole.OFFICER)
    signer = pool.signer_for(SignatureRole.OFFICER, config.signing, paths)
    signer.login(lambda: pin)
    cert = signer.certificate()
    name = str(cert.subject.native.get("common_name", "")) or "?"
    return CardHolder(name, "card-" + hashlib.sha256(cert.dump()).hexdigest()[:12])


def card_pin_state(*, paths: Paths, config: Config) -> dict[str, bool]:
    """The officer card's PIN flags as the token reports them (``pin_locked``, ``pin_final_try``,
    ``pin_count_low``); empty when the card cannot be read. Checked before a PIN is tried."""
    from service.signing.status import token_status

    try:
        rows = token_status(config.signing, paths)
    except SohoaError:
        return {}
    row = next((r for r in rows if r.get("role") == SignatureRole.OFFICER.value), {})
    return {k: bool(row[k]) for k in ("pin_locked", "pin_final_try", "pin_count_low") if k in row}


def card_present(*, paths: Paths, config: Config) -> bool:
    """Whether the officer's card is still in the reader (False once it is pulled).

    Presence, not the PIN state: a wrong PIN at the signing step logs the card out but the
    officer's desk session goes on.
    """
    return pool.signer_for(SignatureRole.OFFICER, config.signing, paths).present()


def card_logout() -> None:
    """End the officer's card session (logout or shift end)."""
    pool.logout(SignatureRole.OFFICER)


def release_cards() -> None:
    """Close every token session (service shutdown), so the PKCS#11 module is free again."""
    pool.close_all()


def owner_from_qr(store: DraftStore, draft: Draft, payload: str) -> None:
    """Fill the owner from the chip ID card's QR text (as the serial QR reader typed it)."""
    card = parse_cccd_qr(payload)
    set_owner(store, draft, card.personal_id, card.full_name, card.birth_date.isoformat(), source="qr")


def owner_from_qr_image(store: DraftStore, draft: Draft, image: bytes) -> None:
    """Fill the owner from a camera still of the ID card's front (its QR code is decoded)."""
    card = read_cccd_qr_image(image)
    set_owner(store, draft, card.personal_id, card.full_name, card.birth_date.isoformat(), source="qr")


def qr_texts(image: bytes) -> list[str]:
    """The text of every QR code in a camera still (InputError when there is none)."""
    return [p.decode("utf-8", "replace") for p in decode_qr_image(image)]


def _originals(comp: DraftComponent) -> list[int]:
    return [i for i, p in enumerate(comp.pages) if p.sticky_of is None]


def extract_draft(store: DraftStore, draft_id: str, config: Config, progress: Progress) -> None:
    """The spine's steps before the officer review: OCR every captured page (not sticky-note
    re-captures) and extract each component's fields into the draft, the review state."""
    draft = store.get(draft_id)
    # Components whose pages did not change since their last extraction keep their (reviewed) fields.
    todo = [c for c in draft.components if not c.reuse_code and c.pages
            and [c.pages[i].sha256 for i in _originals(c)] != c.extracted_from]
    total = sum(len(_originals(c)) for c in todo) + len(todo)
    done = 0
    for comp in todo:
        pages = []
        for i in _originals(comp):
            progress("job.ocr", done, total)
            data, _media = store.page_bytes(draft, comp.pages[i].sha256)
            pages.append(procedure.read_page(data, config, sha256=comp.pages[i].sha256))
            done += 1
        progress("job.extract", done, total)
        ex = procedure.extract(pages, config, strict=True)
        assert ex is not None  # strict: the extractor's error is raised instead
        fields = {n: fv.to_json() for n in ex.field_names() if (fv := ex.get(n)) is not None}
        if draft.owner_id and "owner_id" not in fields and draft.owner_source == "qr":
            fields["owner_id"] = FieldValue(draft.owner_id, FieldSource.QR, 1.0).to_json()
        comp.fields = fields
        comp.flags = ex.review_json()
        comp.extracted_from = [comp.pages[i].sha256 for i in _originals(comp)]
        done += 1
        store.save(draft)


def _paper(draft: Draft, comp: DraftComponent, store: DraftStore, config: Config) -> Paper:
    """Pages in order with each sticky-note re-capture right after its page (Art. 8), the reviewed
    fields and the OCR the review already made; the owner is the dossier's, not the paper's."""
    ordered, sticky = [], []
    for p in comp.pages:
        if p.sticky_of is not None:
            continue
        ordered.append(p)
        for q in comp.pages:
            if q.sticky_of == p.sha256:
                sticky.append(len(ordered))
                ordered.append(q)
    raw = tuple(RawPage(store.page_bytes(draft, p.sha256)[0], f"page {i + 1}") for i, p in enumerate(ordered))
    ocr = tuple(procedure.cached_page(p.sha256, config) if p.sticky_of is None else None for p in ordered)
    reviewed = {n: FieldValue.from_json(v) for n, v in comp.fields.items() if n != "owner_id"}
    return Paper(pages=raw, fields={}, reviewed=reviewed, declared_pages=comp.declared_pages,
                 mismatch_reason=comp.mismatch_reason, sticky_notes=tuple(sticky),
                 ocr_pages=ocr if any(ocr) else None, sides=tuple(p.side for p in ordered))


#: The history's reason when a dossier received at the desk is withdrawn because its draft was discarded.
DISCARD_REASON = "Hủy tại quầy tiếp nhận trước khi số hóa xong"
#: The history's reason when the officer changed the procedure of a dossier just received.
PROCEDURE_CHANGED = "Đổi thủ tục hành chính khi tiếp nhận"


def received_here(draft: Draft) -> bool:
    """Whether ``draft`` received its dossier (a reopened dossier's draft or a result draft did not:
    their owner comes from the dossier)."""
    return bool(draft.dossier_code) and draft.kind != RESULT_DRAFT and draft.owner_source != "dossier"


def receive_dossier(store: DraftStore, draft: Draft, actor: str, *, paths: Paths, config: Config,
                    now_fn: Callable[[], dt.datetime]) -> str:
    """Receive the dossier in the store (status ``received``) once the officer confirmed the owner
    and the procedure; its code is kept on the draft, so the reuse step asks the province under it.

    Idempotent: a draft that already has its dossier keeps it. When the officer changed the
    procedure of a dossier this draft received and nothing is in it yet, that dossier is withdrawn
    (reason :data:`PROCEDURE_CHANGED`) and a new one is received; with papers in it, refused.
    """
    if draft.dossier_code:
        view = dossier.show(draft.dossier_code, paths=paths, config=config)
        if view["procedure"] == draft.procedure_code or not received_here(draft):
            return draft.dossier_code
        if view["status"] != DossierStatusCode.RECEIVED.value:
            raise DossierRuleError("procedure_fixed", "the dossier already holds papers; its procedure cannot change",
                                   remedy="discard this dossier and receive a new one")
        dossier.withdraw(draft.dossier_code, PROCEDURE_CHANGED, actor=actor, paths=paths, config=config)
        draft.dossier_code = ""
        store.save(draft)
    if not draft.owner_id:
        raise ValidationError("owner_id", "is empty; a dossier is opened for its owner's identifier",
                              remedy="type the owner's identifier or scan the ID card's QR")
    now = now_fn()
    rec = dossier.open_dossier(draft.procedure_code, draft.owner_id, actor=actor, paths=paths, config=config,
                               now=now)
    draft.dossier_code = rec.id
    draft.received_at = now.isoformat(timespec="seconds")
    draft.return_date = add_working_days(now.date(), draft.return_days).isoformat()
    store.save(draft)
    return rec.id


def discard_draft(store: DraftStore, draft_id: str, actor: str, *, paths: Paths, config: Config,
                  reason: str = "") -> str | None:
    """Delete an open draft and its page images; the dossier it received is withdrawn first, with
    ``reason`` (else :data:`DISCARD_REASON`), so no received dossier is left without a decision.
    Returns the withdrawn dossier's code (None when there was none). A reopened dossier's draft
    leaves its dossier as it is."""
    draft = store.get(draft_id)
    if draft.state != "open":
        raise ValidationError("draft", "a finalized dossier cannot be discarded")
    withdrawn = None
    if received_here(draft):
        status = dossier.show(draft.dossier_code, paths=paths, config=config)["status"]
        if DossierStatusCode(status) not in FINAL_STATUSES:
            dossier.withdraw(draft.dossier_code, reason.strip() or DISCARD_REASON, actor=actor, paths=paths,
                             config=config)
            withdrawn = draft.dossier_code
    discard_plain(store, draft_id)
    return withdrawn


def _record_reuse(code: str, comp: DraftComponent, actor: str, paths: Paths, config: Config) -> None:
    """Record the reused paper in the dossier (the monthly report counts it); idempotent."""
    reuse_code = comp.reuse_code
    assert reuse_code is not None

    def record(from_province: bool) -> None:
        try:
            dossier.reuse_paper(code, comp.code, reuse_code, actor=actor, paths=paths, config=config,
                                from_province=from_province)
        except DossierRuleError as exc:
            if exc.key != "dossier.reuse_twice":  # already recorded by an earlier, interrupted finalize
                raise

    try:
        record(from_province=False)
    except NotFoundError:  # a paper the province answered for this owner: recorded by its code's digest
        record(from_province=True)


def finalize_draft(store: DraftStore, draft_id: str, pin: str, officer_name: str, actor: str, *,
                   paths: Paths, config: Config, now_fn: Callable[[], dt.datetime],
                   progress: Progress) -> Draft:
    """Digitize, sign and queue every captured component into the draft's dossier (received at the
    procedure step; received now for a draft that never passed it) through
    :mod:`service.usecases.dossier`, and record each reused paper in it; a result draft digitizes the
    procedure's result, signed by officer then agency. Resumable after a fault (nothing is stored twice)."""
    draft = store.get(draft_id)
    if draft.state != "open":
        raise ValidationError("dossier", "is already finalized")
    comps = [c for c in draft.components if not c.reuse_code]
    if not draft.components:
        raise ValidationError("dossier", "has no components", remedy="choose the procedure and components first")
    total = 2 * len(comps) + 2
    progress("job.card", 0, total)
    signer = pool.signer_for(SignatureRole.OFFICER, config.signing, paths)
    pool.logout(SignatureRole.OFFICER)
    signer.login(lambda: pin)  # a wrong PIN stops here, before anything is stored
    code = receive_dossier(store, draft, actor, paths=paths, config=config, now_fn=now_fn)
    for reused in (c for c in draft.components if c.reuse_code):
        _record_reuse(code, reused, actor, paths, config)
    result = draft.kind == RESULT_DRAFT
    roles = (SignatureRole.OFFICER, SignatureRole.AGENCY) if result else (SignatureRole.OFFICER,)
    step = 1
    for comp in comps:
        def stored(done: DigitizeResult, comp: DraftComponent = comp, step: int = step) -> None:
            comp.result_code = done.result_code  # resumable: a failed signature does not store it twice
            store.save(draft)
            progress("job.sign", step + 1, total)

        if comp.result_code is None:
            progress("job.digitize", step, total)
            paper = _paper(draft, comp, store, config)
            if result:
                dossier.digitize_result(draft.dossier_code, paper, lambda: pin, actor=actor, paths=paths,
                                        config=config, on_stored=stored)
            else:
                dossier.attach_component(draft.dossier_code, comp.code, paper, actor=actor, paths=paths,
                                         config=config, on_stored=stored,
                                         signing=procedure.SignStep(roles, lambda: pin, actor=actor))
        elif not comp.signed:
            progress("job.sign", step + 1, total)
            missing = tuple(r for r in roles if r.value not in signed_roles(paths, comp.result_code))
            procedure.sign(comp.result_code, procedure.SignStep(missing, lambda: pin, actor=actor),
                           paths=paths, config=config)
        if not comp.signed:
            comp.signed = True
            store.save(draft)
        step += 2
    progress("job.queue", step, total)
    draft.state = "finalized"
    draft.signed_by = officer_name
    store.save(draft)
    store.purge_pages(draft)  # the images live in the store now; no second copy of personal papers
    return draft


def dossier_status(store: DraftStore, paths: Paths, code: str) -> DossierStatus | None:
    """Status of the finalized dossier ``code``; None when there is none."""
    code = code.strip()
    if not code:
        return None
    match = next((d for d in store.list(state="finalized") if d.dossier_code == code), None)
    if match is None:
        return None
    docs: dict[str, DocumentStatus] = {}
    for c in match.components:
        rc = c.result_code or c.reuse_code
        if rc:
            try:
                docs[rc] = document_status(paths, rc)
            except NotFoundError:
                continue
    states = {d.delivery for d in docs.values()}
    if "failed" in states:
        overall = "problem"
    elif docs and states == {"delivered"}:
        overall = "synced"
    elif docs:
        overall = "queued"
    else:
        overall = "received"
    return DossierStatus(match.dossier_code, match.procedure_name, match.received_at, match.return_date, overall, docs)
