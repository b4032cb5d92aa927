"""Configuration of the pure rules: result-code templates and the uniqueness suffix.

TT 01/2023 Art. 10 leaves the code structure unconfirmed (docs/REGULATION.md §4), so the structure is a
validated template here; see :mod:`service.domain.result_code` for the placeholders.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.domain.errors import ConfigError
from service.domain.result_code import (
    COMPONENT_PLACEHOLDERS,
    DEFAULT_COMPONENT_TEMPLATE,
    DEFAULT_RESULT_CODE_TEMPLATE,
    RESULT_CODE_MAX,
    validate_template,
)


class CodesConfig(BaseModel):
    """Settings for digitization result codes and document type codes.

    ``result_code_template``: Art. 10 khoản 1 code, placeholders ``{owner_id}``,
    ``{document_type_code}`` (required) and ``{issue_year}``.
    ``component_type_template``: Art. 10 khoản 3 document type code of papers that are not
    procedure results, placeholders ``{procedure_code}``, ``{component_code}``, ``{seq}``.
    ``suffix_separator`` / ``suffix_width``: how a running number is appended for uniqueness.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    result_code_template: str = DEFAULT_RESULT_CODE_TEMPLATE
    component_type_template: str = DEFAULT_COMPONENT_TEMPLATE
    suffix_separator: Literal[".", "-", "_"] = "."
    suffix_width: int = Field(default=2, ge=1, le=6)
    max_length: int = Field(default=RESULT_CODE_MAX, ge=20, le=RESULT_CODE_MAX)

    @field_validator("result_code_template")
    @classmethod
    def _check_result_template(cls, value: str) -> str:
        try:
            validate_template(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from exc
        return value

    @field_validator("component_type_template")
    @classmethod
    def _check_component_template(cls, value: str) -> str:
        try:
            validate_template(value, allowed=COMPONENT_PLACEHOLDERS, required=COMPONENT_PLACEHOLDERS,
                              what="component type code template")
        except ConfigError as exc:
            raise ValueError(exc.message) from exc
        return value
