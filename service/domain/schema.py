"""Validation of the TT 01/2023 Art. 9 metadata: every error names the field and the reason.

Rules:

* ``document_type_code`` well formed (see :mod:`service.domain.codes`);
* ``owner_id`` a valid identifier, or, when it is empty, the Art. 9 §2(b) fallback:
  ``owner_name`` + ``owner_birth_date`` (a person) or ``organization_name`` +
  ``organization_founded_year`` (an organisation);
* dates ISO ``YYYY-MM-DD``, real and plausible (not in the future; birth from 1900, issue from
  02/09/1945); ``valid_until`` not before ``issue_date``; a CCCD's birth year matches the birth date;
* ``number_symbol`` parseable; text NFC; confidences in 0..1; extra keys ``snake_case``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from service.domain.codes import validate_document_type_code
from service.domain.errors import ValidationError
from service.domain.fields import ART9_FIELDS, FieldValue, Metadata
from service.domain.identifiers import IdentifierKind, parse_identifier
from service.domain.number_symbol import parse_number_symbol

EARLIEST_BIRTH = date(1900, 1, 1)
EARLIEST_ISSUE = date(1945, 9, 2)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EXTRA_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

PERSON_FALLBACK = ("owner_name", "owner_birth_date")
ORGANIZATION_FALLBACK = ("organization_name", "organization_founded_year")


class MetadataInvalid(ValidationError):
    """Several fields are wrong at once; ``errors`` lists each :class:`ValidationError`."""

    def __init__(self, errors: list[ValidationError]) -> None:
        names = ", ".join(dict.fromkeys(e.field for e in errors))
        detail = "; ".join(str(e.message) for e in errors)
        super().__init__(names, f"{len(errors)} problems: {detail}",
                         remedy="correct each field listed; the first is " + errors[0].field)
        self.errors = errors


def _text(fv: FieldValue | None) -> str:
    return fv.value.strip() if fv is not None else ""


def iso_date(fv: FieldValue, name: str, *, earliest: date, today: date) -> tuple[date | None, list[ValidationError]]:
    """Check one ISO date field; returns the date (if valid) and the errors found."""
    text = fv.value.strip()
    if not _ISO.fullmatch(text):
        return None, [ValidationError(name, f"'{text}' is not an ISO date YYYY-MM-DD",
                                      remedy="write the date as YYYY-MM-DD (e.g. 2022-08-09)")]
    try:
        value = date.fromisoformat(text)
    except ValueError as exc:
        return None, [ValidationError(name, f"'{text}' is not a calendar date ({exc})",
                                      remedy="check day and month on the paper")]
    if value < earliest:
        return value, [ValidationError(name, f"{text} is before {earliest.isoformat()}, not plausible",
                                       remedy="check the year on the paper")]
    if name != "valid_until" and value > today:
        return value, [ValidationError(name, f"{text} is in the future", remedy="check the year on the paper")]
    return value, []


def owner_errors(md: Metadata, *, today: date | None = None) -> list[ValidationError]:
    """Errors of the owner part: a valid ``owner_id`` or a complete fallback pair."""
    owner = _text(md.owner_id)
    if owner:
        try:
            parse_identifier(owner, field_name="owner_id", today=today)
        except ValidationError as exc:
            return [exc]
        return []
    person = [n for n in PERSON_FALLBACK if _text(md.get(n))]
    org = [n for n in ORGANIZATION_FALLBACK if _text(md.get(n))]
    if len(person) == 2 or len(org) == 2:
        return []
    if person:
        missing = next(n for n in PERSON_FALLBACK if n not in person)
        return [ValidationError(missing, "is required when owner_id is empty (person: full name + date of birth)",
                                remedy=f"enter {missing} or the owner's identifier")]
    if org:
        missing = next(n for n in ORGANIZATION_FALLBACK if n not in org)
        return [ValidationError(missing, "is required when owner_id is empty "
                                "(organisation: name + founding year)", remedy=f"enter {missing} or the identifier")]
    return [ValidationError("owner_id", "is empty and no fallback is given: enter owner_name + owner_birth_date "
                            "(person) or organization_name + organization_founded_year (organisation)",
                            remedy="enter the owner's identifier, or the fallback fields")]


def validate_metadata(md: Metadata, *, today: date | None = None) -> list[ValidationError]:
    """All problems of ``md``, each naming its field; an empty list means valid."""
    now = today or date.today()
    errors: list[ValidationError] = []
    try:
        validate_document_type_code(md.document_type_code)
    except ValidationError as exc:
        errors.append(exc)
    for name in (*ART9_FIELDS, *sorted(md.extra)):
        fv = md.get(name)
        if fv is None:
            continue
        if not 0.0 <= fv.confidence <= 1.0:
            errors.append(ValidationError(name, f"confidence {fv.confidence} is outside 0..1"))
        if unicodedata.normalize("NFC", fv.value) != fv.value:
            errors.append(ValidationError(name, "text is not Unicode NFC", remedy="normalise the text to NFC"))
    for key in md.extra:
        if not _EXTRA_KEY.fullmatch(key):
            errors.append(ValidationError(key, "extra field names are lower-case snake_case (e.g. plate_number)"))
        elif not _text(md.extra[key]):
            errors.append(ValidationError(key, "is empty; drop the field instead"))
    errors.extend(owner_errors(md, today=now))
    dates: dict[str, date | None] = {}
    for name, earliest in (("owner_birth_date", EARLIEST_BIRTH), ("issue_date", EARLIEST_ISSUE),
                           ("valid_until", EARLIEST_ISSUE)):
        fv = md.get(name)
        if fv is not None and fv.value.strip():
            dates[name], errs = iso_date(fv, name, earliest=earliest, today=now)
            errors.extend(errs)
    issued, until = dates.get("issue_date"), dates.get("valid_until")
    if issued and until and until < issued:
        errors.append(ValidationError("valid_until", f"{until} is before the issue date {issued}",
                                      remedy="check both dates on the paper"))
    born = dates.get("owner_birth_date")
    if born and _text(md.owner_id):
        try:
            ident = parse_identifier(_text(md.owner_id), today=now)
            if ident.kind is IdentifierKind.CCCD and ident.details["birth_year"] != born.year:
                errors.append(ValidationError("owner_birth_date", f"year {born.year} differs from the birth year "
                                              f"{ident.details['birth_year']} encoded in the personal ID",
                                              remedy="one of the two is misread; check the card"))
        except ValidationError:  # an invalid identifier is already reported by owner_errors
            ident = None
    founded = _text(md.organization_founded_year)
    if founded and (not re.fullmatch(r"\d{4}", founded) or not 1800 <= int(founded) <= now.year):
        errors.append(ValidationError("organization_founded_year", f"'{founded}' is not a plausible year (YYYY)",
                                      remedy="enter the four-digit founding year"))
    name = _text(md.owner_name)
    if name and (any(ch.isdigit() for ch in name) or not any(ch.isalpha() for ch in name)):
        errors.append(ValidationError("owner_name", "a person's name has letters and no digits",
                                      remedy="check the name against the paper"))
    if _text(md.number_symbol):
        try:
            parse_number_symbol(_text(md.number_symbol))
        except ValidationError as exc:
            errors.append(exc)
    return errors


def ensure_valid(md: Metadata, *, today: date | None = None) -> Metadata:
    """Return ``md`` if valid; raise its only error, or :class:`MetadataInvalid` listing all."""
    errors = validate_metadata(md, today=today)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise MetadataInvalid(errors)
    return md
