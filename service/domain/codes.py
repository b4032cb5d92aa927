"""Codes of the national TTHC database: procedure codes, result-type codes, document type codes.

* Procedure code (mã TTHC, docs/REGULATION.md §6.1): national ``1.001776``, localised
  ``1.003560.000.00.00.H56`` or ``2.002621.H56``, sometimes with a ``.02`` variant suffix.
* Result-type code (mã kết quả, §6.2): ``KQ.G15.000031``.
* Document type code (mã loại giấy tờ): any of the above or a catalogue code; letters, digits and
  ``.``/``-``/``_`` separators, at most 200 characters (the provincial ``MaGiayTo`` column width).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from service.domain.errors import ValidationError
from service.domain.text import nfc

DOCUMENT_TYPE_CODE_MAX = 200
_DOC_TYPE = re.compile(r"^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$")
_PROCEDURE = re.compile(r"^([1-3]\.\d{6})(?:\.((?:\d{3}\.\d{2}\.\d{2}\.)?[GH]\d{2}))?(?:\.(\d{2}))?$")
_RESULT = re.compile(r"^KQ\.([GH]\d{2})\.(\d{6})$")
_DOSSIER = re.compile(r"^(\d{3}\.\d{2}\.\d{2}\.[GH]\d{2})-(\d{2})(\d{2})(\d{2})-(\d{4})$")


@dataclass(frozen=True, slots=True)
class ProcedureCode:
    """A parsed procedure code: national part, publishing unit (if localised), variant suffix."""

    value: str
    national_code: str
    unit_code: str | None
    suffix: str | None


@dataclass(frozen=True, slots=True)
class ResultTypeCode:
    """A parsed result-type code ``KQ.<agency>.<serial>``."""

    value: str
    agency: str
    serial: str


def validate_document_type_code(code: str, *, field_name: str = "document_type_code") -> str:
    """Return the code stripped if well formed; else a ValidationError saying what is wrong."""
    value = nfc(code)
    if not value:
        raise ValidationError(field_name, "is empty",
                              remedy="choose the document type (e.g. result code KQ.G15.000031 or a catalogue code)")
    if len(value) > DOCUMENT_TYPE_CODE_MAX:
        raise ValidationError(field_name, f"is longer than {DOCUMENT_TYPE_CODE_MAX} characters",
                              remedy="use the code from the TTHC database or the catalogue")
    if not _DOC_TYPE.fullmatch(value):
        raise ValidationError(field_name, f"'{value}' is not well formed: use letters and digits in groups "
                              "joined by '.', '-' or '_' (e.g. KQ.G15.000031)",
                              remedy="remove spaces, accents and other punctuation")
    return value


def parse_procedure_code(text: str, *, field_name: str = "procedure_code") -> ProcedureCode:
    """Parse a national or localised procedure code (``1.001776``, ``2.000488.000.00.00.H56``)."""
    value = nfc(text).replace(" ", "")
    m = _PROCEDURE.fullmatch(value)
    if not m:
        raise ValidationError(field_name, f"'{value}' is not a procedure code (expected e.g. 1.001776 or "
                              "1.001776.000.00.00.H56)", remedy="copy the code from the TTHC database")
    return ProcedureCode(value, m.group(1), m.group(2), m.group(3))


def parse_result_type_code(text: str, *, field_name: str = "document_type_code") -> ResultTypeCode:
    """Parse a result-type code of the national TTHC database (``KQ.G15.000031``)."""
    value = nfc(text).replace(" ", "").upper()
    m = _RESULT.fullmatch(value)
    if not m:
        raise ValidationError(field_name, f"'{value}' is not a result-type code (expected KQ.<G|H>NN.NNNNNN)",
                              remedy="copy the result code from the TTHC database")
    return ResultTypeCode(value, m.group(1), m.group(2))


@dataclass(frozen=True, slots=True)
class DossierCode:
    """A dossier code ``<unit e-ID>-YYMMDD-XXXX`` (TT 01/2018/TT-VPCP Điều 19, docs/REGULATION.md §6.3)."""

    value: str
    unit_code: str
    received_date: date
    daily_seq: str


def parse_dossier_code(text: str, *, field_name: str = "dossier_code") -> DossierCode:
    """Parse ``000.00.00.H56-230405-0001`` into unit code, date of receipt and daily sequence."""
    value = nfc(text).replace(" ", "").upper()
    m = _DOSSIER.fullmatch(value)
    if not m:
        raise ValidationError(field_name, f"'{value}' is not a dossier code (expected e.g. 000.00.00.H56-230405-0001)",
                              remedy="copy the code from the receipt (phiếu tiếp nhận)")
    try:
        received = date(2000 + int(m.group(2)), int(m.group(3)), int(m.group(4)))
    except ValueError as exc:
        raise ValidationError(field_name, f"'{value}' holds an impossible date of receipt",
                              remedy="check the six digits after the unit code") from exc
    return DossierCode(value, m.group(1), received, m.group(5))
