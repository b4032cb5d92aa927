from __future__ import annotations

import pytest

from service.domain.categories import DigitizationCategory, copy_decision, parse_category
from service.domain.errors import ValidationError


def test_five_mandatory_kinds_and_on_request_is_fee_bearing() -> None:
    mandatory = [c for c in DigitizationCategory if c.mandatory]
    assert len(mandatory) == 5
    assert not any(c.fee_bearing for c in mandatory)
    assert DigitizationCategory.ON_REQUEST.fee_bearing and not DigitizationCategory.ON_REQUEST.mandatory
    assert all(c.label_vi for c in DigitizationCategory)


def test_decisions() -> None:
    d = copy_decision(DigitizationCategory.PROCEDURE_RESULT)
    assert d.digitize and not d.fee_bearing
    d = copy_decision(DigitizationCategory.ON_REQUEST)
    assert not d.digitize and d.fee_bearing
    d = copy_decision(DigitizationCategory.ON_REQUEST, requested=True)
    assert d.digitize and d.fee_bearing
    assert not copy_decision(DigitizationCategory.PRIOR_RESULT, received_electronically=True).digitize
    assert not copy_decision(DigitizationCategory.PARTICIPATING_AGENCY_RESULT, verification_result=True).digitize
    assert copy_decision(DigitizationCategory.SPECIALISED_LAW, verification_result=True,
                         specialised_law_requires=True).digitize


def test_parse_category() -> None:
    assert parse_category("1") is DigitizationCategory.PRIOR_RESULT
    assert parse_category("5") is DigitizationCategory.PROCEDURE_RESULT
    assert parse_category("on-request") is DigitizationCategory.ON_REQUEST
    with pytest.raises(ValidationError, match="unknown digitization category") as err:
        parse_category("6")
    assert err.value.field == "category"
