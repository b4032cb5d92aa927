"""The dossier lifecycle's pure rules: every allowed transition, every refusal, the owner flag."""

from __future__ import annotations

import pytest

from service.domain.dossier import (
    FINAL,
    TRANSITIONS,
    DossierRuleError,
    DossierStatus,
    after_component,
    can_attach,
    check_transition,
    owner_mismatch,
    parse_status,
)

S = DossierStatus
REASONED = {S.ADDITIONAL_PAPERS_REQUESTED: ("thiếu giấy", ("GCS",)), S.WITHDRAWN: ("xin rút", ()),
            S.REFUSED: ("không đủ điều kiện", ())}


def _ok(before: DossierStatus, after: DossierStatus):
    reason, comps = REASONED.get(after, (None, ()))
    return check_transition(before, after, reason=reason, components=comps, known_components=["GCS", "TK"],
                            has_result=True)


@pytest.mark.parametrize(("before", "after"), [(b, a) for b, nxt in TRANSITIONS.items() for a in sorted(nxt)])
def test_every_allowed_transition_is_accepted(before, after) -> None:
    t = _ok(before, after)
    assert (t.before, t.after) == (before, after)


@pytest.mark.parametrize(("before", "after"),
                         [(b, a) for b in S for a in S if a not in TRANSITIONS[b]])
def test_every_other_transition_is_refused_with_a_message_key(before, after) -> None:
    with pytest.raises(DossierRuleError) as exc:
        _ok(before, after)
    assert exc.value.key.startswith("dossier.") and exc.value.exit_code == 5


def test_the_walk_of_the_issue_is_allowed_and_ends() -> None:
    walk = [S.RECEIVED, S.ADDITIONAL_PAPERS_REQUESTED, S.IN_PROGRESS, S.RESULT_READY, S.RETURNED]
    for before, after in zip(walk, walk[1:], strict=False):
        _ok(before, after)
    assert FINAL == {S.RETURNED, S.WITHDRAWN, S.REFUSED}


@pytest.mark.parametrize("before", [S.RECEIVED, S.IN_PROGRESS, S.ADDITIONAL_PAPERS_REQUESTED])
def test_returning_without_a_result_is_refused(before) -> None:
    with pytest.raises(DossierRuleError, match="no result to return") as exc:
        check_transition(before, S.RETURNED, has_result=False)
    assert exc.value.key == "dossier.return_without_result"


def test_result_ready_and_return_need_the_result() -> None:
    with pytest.raises(DossierRuleError) as exc:
        check_transition(S.IN_PROGRESS, S.RESULT_READY, has_result=False)
    assert exc.value.key == "dossier.return_without_result"
    with pytest.raises(DossierRuleError):
        check_transition(S.RESULT_READY, S.RETURNED, has_result=False)


def test_a_second_return_is_refused() -> None:
    with pytest.raises(DossierRuleError, match="already returned") as exc:
        check_transition(S.RETURNED, S.RETURNED, has_result=True)
    assert exc.value.key == "dossier.final_returned"


@pytest.mark.parametrize(("reason", "comps", "key"), [
    (None, ("GCS",), "dossier.reason_missing"),
    ("   ", ("GCS",), "dossier.reason_missing"),
    ("thiếu giấy", (), "dossier.components_missing"),
    ("thiếu giấy", ("  ",), "dossier.components_missing"),
    ("thiếu giấy", ("XYZ",), "dossier.unknown_component"),
    ("x" * 1001, ("GCS",), "dossier.reason_too_long"),
])
def test_additional_papers_need_a_reason_and_known_components(reason, comps, key) -> None:
    with pytest.raises(DossierRuleError) as exc:
        check_transition(S.IN_PROGRESS, S.ADDITIONAL_PAPERS_REQUESTED, reason=reason, components=comps,
                         known_components=["GCS", "TK"])
    assert exc.value.key == key


def test_request_keeps_components_once_in_order_and_cleans_the_reason() -> None:
    t = check_transition(S.RECEIVED, S.ADDITIONAL_PAPERS_REQUESTED, reason="  thiếu  ", components=["TK", "GCS", "TK"],
                         known_components=["GCS", "TK"])
    assert t.reason == "thiếu" and t.components == ("TK", "GCS")


@pytest.mark.parametrize("after", [S.WITHDRAWN, S.REFUSED])
def test_withdraw_and_refuse_need_a_reason(after) -> None:
    with pytest.raises(DossierRuleError) as exc:
        check_transition(S.IN_PROGRESS, after)
    assert exc.value.key == "dossier.reason_missing"


def test_components_only_in_a_request() -> None:
    with pytest.raises(DossierRuleError) as exc:
        check_transition(S.RECEIVED, S.REFUSED, reason="r", components=["GCS"])
    assert exc.value.key == "dossier.components_unexpected"


def test_attaching_papers() -> None:
    assert after_component(S.RECEIVED) is S.IN_PROGRESS
    assert after_component(S.ADDITIONAL_PAPERS_REQUESTED) is S.IN_PROGRESS
    assert after_component(S.IN_PROGRESS) is None
    with pytest.raises(DossierRuleError):
        after_component(S.RESULT_READY)
    for final in FINAL:
        with pytest.raises(DossierRuleError):
            can_attach(final)
    can_attach(S.IN_PROGRESS)


def test_status_names() -> None:
    assert parse_status(" Returned ") is S.RETURNED
    with pytest.raises(DossierRuleError) as exc:
        parse_status("done")
    assert exc.value.key == "dossier.unknown_status"


def test_owner_mismatch_flags_only_two_different_identifiers() -> None:
    assert owner_mismatch("036195004321", "036088001234")
    assert not owner_mismatch("036195004321", "036 195 004321")
    assert not owner_mismatch("036195004321", None) and not owner_mismatch(None, "036088001234")


def test_every_refusal_and_status_has_a_vietnamese_message() -> None:
    """Each message key a lifecycle refusal can carry is in the kiosk's one message catalogue."""
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    catalogue = json.loads((root / "kiosk_ui" / "data" / "messages.json").read_text(encoding="utf-8"))
    keys = set()
    for module in ("service/domain/dossier.py", "service/usecases/dossier.py"):
        keys |= {f"dossier.{k}" for k in re.findall(r'DossierRuleError\(\s*"([a-z_]+)"', (root / module).read_text())}
    keys |= {f"dossier.final_{s.value}" for s in FINAL} | {f"dossier.status.{s.value}" for s in S}
    assert len(keys) > 20
    missing = sorted(k for k in keys if not catalogue.get(k, {}).get("vi"))
    assert missing == []
    with pytest.raises(DossierRuleError) as exc:
        check_transition(S.RECEIVED, S.RETURNED)
    assert catalogue[exc.value.key]["vi"].startswith("Hồ sơ chưa có kết quả")
