"""The dossier (hồ sơ) lifecycle of a one-stop-shop procedure, as pure rules.

received → in_progress → additional_papers_requested (the papers and a reason) → in_progress …
→ result_ready → returned; withdrawn (by the applicant) and refused (by the office) end a dossier
early and need a reason. :data:`TRANSITIONS` is the whole table; :func:`check_transition` refuses
anything else with a :class:`DossierRuleError` that carries a message key for the Vietnamese page
(``key``) and an English text for logs and the CLI.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from service.domain.errors import ValidationError


class DossierStatus(StrEnum):
    """Where a dossier stands."""

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    ADDITIONAL_PAPERS_REQUESTED = "additional_papers_requested"
    RESULT_READY = "result_ready"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"
    REFUSED = "refused"


S = DossierStatus

#: The allowed transitions: from a status, the statuses it may move to.
TRANSITIONS: dict[DossierStatus, frozenset[DossierStatus]] = {
    S.RECEIVED: frozenset({S.IN_PROGRESS, S.ADDITIONAL_PAPERS_REQUESTED, S.RESULT_READY, S.WITHDRAWN, S.REFUSED}),
    S.IN_PROGRESS: frozenset({S.ADDITIONAL_PAPERS_REQUESTED, S.RESULT_READY, S.WITHDRAWN, S.REFUSED}),
    S.ADDITIONAL_PAPERS_REQUESTED: frozenset({S.IN_PROGRESS, S.WITHDRAWN, S.REFUSED}),
    S.RESULT_READY: frozenset({S.RETURNED}),
    S.RETURNED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.REFUSED: frozenset(),
}

#: Statuses that end a dossier: nothing may be attached or changed afterwards.
FINAL: frozenset[DossierStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
#: Statuses that need a reason.
NEEDS_REASON: frozenset[DossierStatus] = frozenset({S.ADDITIONAL_PAPERS_REQUESTED, S.WITHDRAWN, S.REFUSED})


class DossierRuleError(ValidationError):
    """A lifecycle rule refused a change; ``key`` names the Vietnamese message (``dossier.<key>``)."""

    def __init__(self, key: str, message: str, *, remedy: str | None = None) -> None:
        super().__init__("dossier", message, remedy=remedy)
        self.key = f"dossier.{key}"


@dataclass(frozen=True, slots=True)
class Transition:
    """One accepted change of status, ready to be stored (reason and components cleaned)."""

    before: DossierStatus
    after: DossierStatus
    reason: str | None
    components: tuple[str, ...]


def parse_status(text: str) -> DossierStatus:
    """The status named ``text``; :class:`DossierRuleError` when unknown."""
    try:
        return DossierStatus(text.strip().lower())
    except ValueError:
        raise DossierRuleError("unknown_status", f"'{text}' is not a dossier status",
                               remedy="use one of: " + ", ".join(s.value for s in DossierStatus)) from None


def check_transition(before: DossierStatus, after: DossierStatus, *, reason: str | None = None,
                     components: Sequence[str] = (), known_components: Collection[str] | None = None,
                     has_result: bool = False) -> Transition:
    """Accept ``before`` → ``after`` or raise :class:`DossierRuleError` saying why not.

    ``components`` are the papers asked for (additional-papers request only), checked against
    ``known_components`` (the procedure's codes) when given; ``has_result`` says whether the
    dossier holds a digitized result (needed to mark it result-ready and to return it).
    """
    if before in FINAL:
        raise DossierRuleError(f"final_{before.value}", f"the dossier is already {before.value}; it cannot change",
                               remedy="open a new dossier")
    if after not in TRANSITIONS[before]:
        if after is S.RETURNED:
            raise DossierRuleError("return_without_result", "the dossier has no result to return yet",
                                   remedy="digitize the result first ('sohoa dossier result')")
        raise DossierRuleError("transition_refused", f"a dossier that is {before.value} cannot become {after.value}",
                               remedy="see 'sohoa dossier show' for where it stands")
    if after in (S.RESULT_READY, S.RETURNED) and not has_result:
        raise DossierRuleError("return_without_result", "the dossier has no result to return yet",
                               remedy="digitize the result first ('sohoa dossier result')")
    text = (reason or "").strip() or None
    if after in NEEDS_REASON and text is None:
        raise DossierRuleError("reason_missing", f"a reason is needed to mark the dossier {after.value}",
                               remedy="give the reason (--reason TEXT)")
    if text is not None and len(text) > 1000:
        raise DossierRuleError("reason_too_long", "the reason is longer than 1000 characters", remedy="shorten it")
    codes = tuple(dict.fromkeys(c.strip() for c in components if c.strip()))
    if after is S.ADDITIONAL_PAPERS_REQUESTED:
        if not codes:
            raise DossierRuleError("components_missing", "an additional-papers request names no paper",
                                   remedy="name each paper asked for (--component CODE)")
        check_components(codes, known_components)
    elif codes:
        raise DossierRuleError("components_unexpected", "papers can only be listed in an additional-papers request")
    return Transition(before, after, text, codes)


def check_components(codes: Sequence[str], known: Collection[str] | None) -> None:
    """Refuse component codes that are not the procedure's (nothing is checked when ``known`` is None)."""
    if known is None:
        return
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise DossierRuleError("unknown_component", f"component {', '.join(unknown)} is not part of the procedure",
                               remedy="use a component code from 'sohoa procedures'")


def can_attach(status: DossierStatus) -> None:
    """Refuse attaching papers (components or the result) to a dossier that has ended."""
    if status in FINAL:
        raise DossierRuleError(f"final_{status.value}", f"the dossier is already {status.value}; "
                               "nothing can be added to it", remedy="open a new dossier")


def after_component(status: DossierStatus) -> DossierStatus | None:
    """The status a dossier moves to when a component is digitized (None: it stays)."""
    if status in (S.RECEIVED, S.ADDITIONAL_PAPERS_REQUESTED):
        return S.IN_PROGRESS
    if status is S.RESULT_READY:
        raise DossierRuleError("result_already_ready", "the result is already digitized; no more papers can be added",
                               remedy="return the result, or open a new dossier")
    return None


def owner_mismatch(dossier_owner: str | None, extracted_owner: str | None) -> bool:
    """True when a paper's extracted owner identifier differs from the dossier's owner (flag it).

    An empty side is not a mismatch (the extraction may find none; Art. 10 cl. 2 allows no owner).
    """
    a = "".join((dossier_owner or "").split())
    b = "".join((extracted_owner or "").split())
    return bool(a and b and a != b)
