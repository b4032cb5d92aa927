from __future__ import annotations

from typing import Any

import pytest

from service.config import parse_config
from service.domain.codes import parse_procedure_code, parse_result_type_code
from service.domain.config import CodesConfig
from service.domain.errors import ConfigError, ValidationError
from service.domain.fields import FieldSource, FieldValue, Metadata
from service.domain.result_code import (
    DEFAULT_RESULT_CODE_TEMPLATE,
    component_document_type_code,
    render_result_code,
    validate_template,
    with_suffix,
)
from tests.domain._vectors import VECTORS


def fv(value: str) -> FieldValue:
    return FieldValue(value, FieldSource.MANUAL)


def test_default_template_owner_dot_type() -> None:
    md = Metadata(document_type_code="KQ.G15.000031", owner_id=fv("001 099 000001"))
    assert CodesConfig().result_code_template == DEFAULT_RESULT_CODE_TEMPLATE
    assert render_result_code(DEFAULT_RESULT_CODE_TEMPLATE, md) == "001099000001.KQ.G15.000031"


def test_empty_owner_needs_fallback() -> None:
    md = Metadata(document_type_code="KQ.G15.000031")
    with pytest.raises(ValidationError) as err:
        render_result_code(DEFAULT_RESULT_CODE_TEMPLATE, md)
    assert err.value.field == "owner_id"
    md = md.with_field("owner_name", fv("Lê Văn C"))
    with pytest.raises(ValidationError) as err:
        render_result_code(DEFAULT_RESULT_CODE_TEMPLATE, md)
    assert err.value.field == "owner_birth_date"
    md = md.with_field("owner_birth_date", fv("1990-01-01"))
    assert render_result_code(DEFAULT_RESULT_CODE_TEMPLATE, md) == ".KQ.G15.000031"


def test_invalid_owner_or_type_refused() -> None:
    with pytest.raises(ValidationError, match="check digit"):
        render_result_code(DEFAULT_RESULT_CODE_TEMPLATE,
                           Metadata(document_type_code="GPKD", owner_id=fv("0100109107")))
    with pytest.raises(ValidationError) as err:
        render_result_code(DEFAULT_RESULT_CODE_TEMPLATE, Metadata(document_type_code="KQ G15", owner_id=fv("B1234567")))
    assert err.value.field == "document_type_code"


def test_issue_year_template() -> None:
    md = Metadata(document_type_code="GKS", owner_id=fv("B1234567"), issue_date=fv("2022-08-09"))
    assert render_result_code("{owner_id}.{document_type_code}.{issue_year}", md) == "B1234567.GKS.2022"
    with pytest.raises(ValidationError) as err:
        render_result_code("{owner_id}.{document_type_code}.{issue_year}", md.with_field("issue_date", None))
    assert err.value.field == "issue_date"


def test_too_long_code() -> None:
    md = Metadata(document_type_code="X" * 190, owner_id=fv("001099000001"))
    with pytest.raises(ValidationError, match="more than 200"):
        render_result_code(DEFAULT_RESULT_CODE_TEMPLATE, md)


@pytest.mark.parametrize("template,needle", [
    ("{owner}.{document_type_code}", "unknown placeholder {owner}"),
    ("{owner_id}", "required placeholder {document_type_code}"),
    ("{owner_id}/{document_type_code}", "literal text '/'"),
    ("{owner_id:>12}.{document_type_code}", "may not carry a format"),
    ("{owner_id}.{document_type_code}.{owner_id}", "appears twice"),
    ("{owner_id.{document_type_code}", "malformed"),
])
def test_bad_templates_are_config_errors(template: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=None) as err:
        validate_template(template)
    assert needle in err.value.message


def test_config_file_reports_bad_placeholder_with_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config("codes:\n  result_code_template: '{owner_id}.{doc}'\n", "config.yaml")
    assert "config.yaml:2" in err.value.message and "{doc}" in err.value.message
    cfg = parse_config("codes:\n  result_code_template: '{document_type_code}.{owner_id}'\n  suffix_width: 3\n")
    assert cfg.codes.result_code_template == "{document_type_code}.{owner_id}"
    with pytest.raises(ConfigError):
        parse_config("codes:\n  component_type_template: '{procedure_code}.{seq}'\n")


def test_with_suffix() -> None:
    assert with_suffix("001099000001.GKS", 2) == "001099000001.GKS.02"
    assert with_suffix("X", 7, separator="-", width=3) == "X-007"
    with pytest.raises(ValidationError):
        with_suffix("X", 0)
    with pytest.raises(ValidationError, match="does not fit"):
        with_suffix("X", 100)


def test_component_document_type_code() -> None:
    assert component_document_type_code("1.001776", "TP01", 1) == "1.001776.TP01.01"
    assert component_document_type_code("2.000488.000.00.00.H56", "GKS", 12) == "2.000488.000.00.00.H56.GKS.12"
    with pytest.raises(ValidationError) as err:
        component_document_type_code("1001776", "TP01", 1)
    assert err.value.field == "procedure_code"
    with pytest.raises(ValidationError) as err:
        component_document_type_code("1.001776", "TP 01", 1)
    assert err.value.field == "component_code"
    with pytest.raises(ValidationError):
        component_document_type_code("1.001776", "TP01", 100)


@pytest.mark.parametrize("vec", VECTORS["tthc_code"], ids=lambda v: v["value"])
def test_procedure_codes(vec: dict[str, Any]) -> None:
    code = parse_procedure_code(vec["value"])
    assert code.national_code == vec["national_code"]
    assert code.unit_code == vec["unit_code"]
    assert code.suffix == vec.get("suffix")


@pytest.mark.parametrize("vec", VECTORS["tthc_result_code"], ids=lambda v: v["value"])
def test_result_type_codes(vec: dict[str, Any]) -> None:
    code = parse_result_type_code(vec["value"])
    assert (code.agency, code.serial) == (vec["parts"]["agency"], vec["parts"]["serial"])
    with pytest.raises(ValidationError):
        parse_result_type_code(vec["value"].replace("KQ", "KX"))


def test_dossier_code_vector() -> None:
    from service.domain.codes import parse_dossier_code

    vec = VECTORS["dossier_code_tt01_2018"]
    code = parse_dossier_code(vec["example_constructed"])
    assert code.unit_code == vec["parsed"]["unit_code"]
    assert code.received_date.isoformat() == vec["parsed"]["received_date"]
    assert code.daily_seq == vec["parsed"]["daily_seq"]
    for bad in ("000.00.00.H56-231305-0001", "000.00.00.H56-230405-001", "H56-230405-0001"):
        with pytest.raises(ValidationError) as err:
            parse_dossier_code(bad)
        assert err.value.field == "dossier_code"
