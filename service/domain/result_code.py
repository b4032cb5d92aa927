"""The digitization result code (mã kết quả số hóa), TT 01/2023 Art. 10 (docs/REGULATION.md §4).

The exact structure of Art. 10 khoản 1 and khoản 3 is **unconfirmed** (the angle-bracket text is
lost in every copy), so both are templates in configuration (:class:`CodesConfig`):

* result code, default ``{owner_id}.{document_type_code}`` (Bình Phước 1403/QĐ-UBND writes
  ``<mã định danh>.<mã loại giấy tờ>``). Placeholders: ``owner_id`` and ``document_type_code``
  (both required), ``issue_year`` (optional). The owner part is **empty** when the owner has no
  identifier (Art. 10 khoản 2 "để trống"); the fallback fields are then required, and the
  separators stay, so the code keeps its shape (``.KQ.G15.000031``).
* document type code of papers that are not procedure results, default
  ``{procedure_code}.{component_code}.{seq}`` (the Thanh Hóa implementation), ``seq`` written
  with two digits. Placeholders: ``procedure_code``, ``component_code``, ``seq`` (all required).

Codes are unique in the store: when a code exists, the store asks :func:`with_suffix` for the
next running number (``<code>.02``).
"""

from __future__ import annotations

import re
from string import Formatter

from service.domain.codes import parse_procedure_code, validate_document_type_code
from service.domain.errors import ConfigError, ValidationError
from service.domain.fields import Metadata
from service.domain.identifiers import parse_identifier
from service.domain.schema import owner_errors

DEFAULT_RESULT_CODE_TEMPLATE = "{owner_id}.{document_type_code}"
DEFAULT_COMPONENT_TEMPLATE = "{procedure_code}.{component_code}.{seq}"
RESULT_CODE_MAX = 200  # provincial column width of the stored code ("Ma" varchar 200)

RESULT_PLACEHOLDERS = frozenset({"owner_id", "document_type_code", "issue_year"})
RESULT_REQUIRED = frozenset({"owner_id", "document_type_code"})
COMPONENT_PLACEHOLDERS = frozenset({"procedure_code", "component_code", "seq"})
_LITERAL = re.compile(r"^[A-Za-z0-9._-]*$")
_COMPONENT = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


def validate_template(template: str, *, allowed: frozenset[str] = RESULT_PLACEHOLDERS,
                      required: frozenset[str] = RESULT_REQUIRED,
                      what: str = "result code template") -> tuple[str, ...]:
    """Check a ``{placeholder}`` template; return its placeholder names in order.

    Raises :class:`ConfigError` naming the bad placeholder or literal. Literal text may only use
    letters, digits, ``.``, ``-`` and ``_``; format specs and conversions are refused.
    """
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise ConfigError(f"{what} {template!r} is malformed ({exc})",
                          remedy="write placeholders as {name}, e.g. {owner_id}.{document_type_code}") from exc
    names: list[str] = []
    for literal, name, spec, conversion in parsed:
        if not _LITERAL.fullmatch(literal):
            raise ConfigError(f"{what} {template!r}: literal text {literal!r} may only use letters, digits, "
                              "'.', '-', '_'",
                              remedy="use '.' as the separator")
        if name is None:
            continue
        if name not in allowed:
            raise ConfigError(f"{what} {template!r}: unknown placeholder {{{name}}}",
                              remedy="allowed placeholders: " + ", ".join("{" + n + "}" for n in sorted(allowed)))
        if spec or conversion:
            raise ConfigError(f"{what} {template!r}: placeholder {{{name}}} may not carry a format",
                              remedy=f"write it as {{{name}}}")
        if name in names:
            raise ConfigError(f"{what} {template!r}: placeholder {{{name}}} appears twice", remedy="use it once")
        names.append(name)
    missing = sorted(required - set(names))
    if missing:
        raise ConfigError(f"{what} {template!r}: required placeholder {{{missing[0]}}} is missing",
                          remedy="include " + ", ".join("{" + n + "}" for n in sorted(required)))
    return tuple(names)


def render_result_code(template: str, metadata: Metadata, *, max_length: int = RESULT_CODE_MAX) -> str:
    """The result code of ``metadata`` under ``template``.

    The owner identifier is validated and written normalized; when it is empty the owner part
    stays empty and the fallback fields must be present (else :class:`ValidationError`).
    """
    validate_template(template)
    doc_type = validate_document_type_code(metadata.document_type_code)
    owner_text = metadata.owner_id.value.strip() if metadata.owner_id is not None else ""
    if owner_text:
        owner = parse_identifier(owner_text, field_name="owner_id").value
    else:
        problems = owner_errors(metadata)
        if problems:
            raise problems[0]
        owner = ""
    issue_year = ""
    if "{issue_year}" in template:
        issue = metadata.issue_date.value.strip() if metadata.issue_date is not None else ""
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", issue):
            raise ValidationError("issue_date", "the result code template uses {issue_year} but the issue date "
                                  "is missing or not ISO", remedy="enter the issue date as YYYY-MM-DD")
        issue_year = issue[:4]
    code = template.format(owner_id=owner, document_type_code=doc_type, issue_year=issue_year)
    if len(code) > max_length:
        raise ValidationError("result_code", f"the code is {len(code)} characters, more than {max_length}",
                              remedy="shorten the document type code")
    return code


def with_suffix(code: str, n: int, *, separator: str = ".", width: int = 2) -> str:
    """``code`` with running number ``n`` appended (``X.KQ`` -> ``X.KQ.02``) to make it unique."""
    if n < 1:
        raise ValidationError("suffix", f"running number {n} must be 1 or more")
    if n >= 10**width:
        raise ValidationError("suffix", f"running number {n} does not fit in {width} digits",
                              remedy="raise codes.suffix_width in the configuration")
    return f"{code}{separator}{n:0{width}d}"


def component_document_type_code(procedure_code: str, component_code: str, seq: int, *,
                                 template: str = DEFAULT_COMPONENT_TEMPLATE) -> str:
    """Document type code of a paper that is not a procedure result (Art. 10 khoản 3, unconfirmed).

    Default ``<procedure code>.<component code>.<NN>``, e.g. ``1.001776.TP01.01``.
    """
    validate_template(template, allowed=COMPONENT_PLACEHOLDERS, required=COMPONENT_PLACEHOLDERS,
                      what="component type code template")
    proc = parse_procedure_code(procedure_code).value
    comp = component_code.strip()
    if not _COMPONENT.fullmatch(comp):
        raise ValidationError("component_code", f"'{comp}' must be 1-50 letters, digits, '-' or '_'",
                              remedy="use the component code of the procedure (e.g. TP01)")
    if not 1 <= seq <= 99:
        raise ValidationError("seq", f"sequence {seq} must be 01..99", remedy="number the papers from 1")
    code = template.format(procedure_code=proc, component_code=comp, seq=f"{seq:02d}")
    return validate_document_type_code(code)
