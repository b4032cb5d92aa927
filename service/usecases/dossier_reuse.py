"""Reuse an owner's already digitized paper as a dossier component instead of scanning it again.

TT 01/2023 Art. 25.3 puts reuse first; the monthly report counts each reuse (the share of reuse is
one of the 766 ratios). The paper must be a stored document of the dossier's owner; the record is
an audit row of the store (:meth:`service.store.Store.record_reuse`), and the first paper moves a
received or papers-requested dossier to ``in_progress``, as a digitized component does.
"""

from __future__ import annotations

import hashlib

from service.config import Config
from service.domain import dossier as rules
from service.domain.dossier import DossierRuleError
from service.paths import Paths
from service.store import DossierRecord, Store
from service.usecases import dossier as lifecycle


def reuse_paper(dossier_id: str, component_code: str, result_code: str, *, actor: str = "officer",
                paths: Paths | None = None, config: Config | None = None,
                from_province: bool = False) -> DossierRecord:
    """Attach the stored document ``result_code`` as the dossier's component ``component_code``.

    ``from_province``: the paper is one the province answered for this owner (a reuse look-up under
    this dossier) and is not stored on the box; the record keeps only its result code's SHA-256.
    """
    p, cfg = lifecycle._ctx(paths, config)
    with Store.open(p, cfg.store) as store:
        rec = store.dossier(dossier_id)
        status = lifecycle._status(rec)
        rules.can_attach(status)
        rules.after_component(status)  # refuses once the result is ready
        proc = lifecycle._procedure(rec, p)
        rules.check_components([component_code], [c.code for c in proc.components])
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
        return lifecycle._transition(rec.id, nxt, actor=actor, paths=p, config=cfg)
    return rec
