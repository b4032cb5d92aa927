"""Which papers must be digitized: Bình Phước 1403/QĐ-UBND Art. 7 (docs/REGULATION.md §1).

Five kinds must be digitized; anything else is digitized on the requester's request and the
requester pays the digitization cost. Papers of a dossier received electronically, and
verification results, are not copied unless specialised law says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from service.domain.errors import ValidationError
from service.domain.text import fold


class DigitizationCategory(StrEnum):
    """The Art. 7 classes of a paper presented at the one-stop shop."""

    PRIOR_RESULT = "prior_result"  # (1) result of an earlier administrative procedure
    SPECIALISED_LAW = "specialised_law"  # (2) component that specialised law requires
    AUTHORITY_REQUIRED = "authority_required"  # (3) required by a minister or provincial chairman
    PARTICIPATING_AGENCY_RESULT = "participating_agency_result"  # (4) result of a participating agency
    PROCEDURE_RESULT = "procedure_result"  # (5) the procedure's own result
    ON_REQUEST = "on_request"  # anything else, at the requester's request and cost

    @property
    def mandatory(self) -> bool:
        """True for the five must-digitize kinds."""
        return self is not DigitizationCategory.ON_REQUEST

    @property
    def fee_bearing(self) -> bool:
        """True when the requester pays the digitization cost (on-request only)."""
        return self is DigitizationCategory.ON_REQUEST

    @property
    def label_vi(self) -> str:
        """The Vietnamese label shown to the officer."""
        return _LABELS[self]


_LABELS: dict[DigitizationCategory, str] = {
    DigitizationCategory.PRIOR_RESULT: "Kết quả giải quyết thủ tục hành chính trước đó",
    DigitizationCategory.SPECIALISED_LAW: "Thành phần hồ sơ pháp luật chuyên ngành yêu cầu số hóa",
    DigitizationCategory.AUTHORITY_REQUIRED: "Thành phần hồ sơ theo yêu cầu của Bộ trưởng, Chủ tịch UBND tỉnh",
    DigitizationCategory.PARTICIPATING_AGENCY_RESULT: "Kết quả xử lý của cơ quan tham gia giải quyết",
    DigitizationCategory.PROCEDURE_RESULT: "Kết quả giải quyết thủ tục hành chính",
    DigitizationCategory.ON_REQUEST: "Số hóa theo yêu cầu (người yêu cầu trả chi phí)",
}


@dataclass(frozen=True, slots=True)
class CopyDecision:
    """Whether to digitize a paper, whether the requester pays, and why."""

    digitize: bool
    fee_bearing: bool
    reason: str


def parse_category(text: str) -> DigitizationCategory:
    """The category named by its code (``prior_result`` ...) or its number 1–5 / ``on_request``."""
    key = fold(text).replace("-", "_").replace(" ", "_")
    numbered = {str(i): c for i, c in enumerate(list(DigitizationCategory)[:5], start=1)}
    if key in numbered:
        return numbered[key]
    try:
        return DigitizationCategory(key)
    except ValueError as exc:
        raise ValidationError("category", f"unknown digitization category {text!r}",
                              remedy="use 1-5 or one of " + ", ".join(c.value for c in DigitizationCategory)) from exc


def copy_decision(category: DigitizationCategory, *, received_electronically: bool = False,
                  verification_result: bool = False, specialised_law_requires: bool = False,
                  requested: bool = False) -> CopyDecision:
    """Decide whether a paper is digitized under Art. 7.

    ``received_electronically`` and ``verification_result`` exclude copying unless
    ``specialised_law_requires``; an on-request paper is digitized only when ``requested``.
    """
    if received_electronically and not specialised_law_requires:
        return CopyDecision(False, False, "dossier received electronically: papers are not copied")
    if verification_result and not specialised_law_requires:
        return CopyDecision(False, False, "verification results are not copied unless specialised law says so")
    if category.mandatory:
        return CopyDecision(True, False, f"must be digitized: {category.label_vi}")
    if requested:
        return CopyDecision(True, True, "digitized on request; the requester pays the cost")
    return CopyDecision(False, True, "not a must-digitize paper; digitize only at the requester's request")
