"""Officer- and citizen-facing wording of the service's typed errors, from the one message catalogue.

Domain rules and drivers raise English messages (logs and the CLI stay English); a page never shows
them in Vietnamese. :func:`describe` picks, in order: the token errors' own keys, an error's
catalogue ``key`` (the dossier rules), an ``errtext.*`` entry whose ``match`` pattern fits the
English reason, then a Vietnamese message for the error's kind (exit code). English pages get the
original text and remedy.
"""

from __future__ import annotations

from kiosk_ui.context import lang, t
from kiosk_ui.i18n import catalogue, error_text
from service.errors import SohoaError, ValidationError
from service.usecases.kiosk_flow import PinIncorrect, TokenAbsent, TokenLocked, TokenRemoved


def _token(exc: SohoaError) -> str | None:
    if isinstance(exc, PinIncorrect):
        if exc.tries_left == 1:
            hint = t("token.one_try")
        elif exc.count_low:
            hint = t("token.few_tries")
        else:
            hint = ""
        return t("token.wrong_pin") + (f" — {hint}" if hint else "")
    if isinstance(exc, TokenLocked):
        return t("token.locked")
    if isinstance(exc, TokenAbsent):
        return t("token.absent")
    if isinstance(exc, TokenRemoved):
        return t("token.removed")
    return None


def field_label(name: str) -> str:
    """The page's label of a field name (``owner_id`` → "Số định danh"); a component's own
    (Vietnamese) name is kept; an unknown technical name gives an empty label."""
    key = f"field.{name}"
    if key in catalogue():
        return t(key)
    return name if not name.isascii() else ""


def describe(exc: SohoaError) -> str:
    """A message for ``exc`` in the request's language; never English on a Vietnamese page."""
    token = _token(exc)
    if token is not None:
        return token
    key = getattr(exc, "key", None)
    if isinstance(key, str) and key in catalogue():
        return t(key)
    if lang() == "en":
        return exc.message + (f" — {exc.remedy}" if exc.remedy else "")
    return reason_text(exc)


def reason_text(exc: SohoaError) -> str:
    """The Vietnamese wording of ``exc`` (for a Vietnamese page), with the field named."""
    if isinstance(exc, ValidationError):
        text = error_text(exc.reason, lang()) or error_text(exc.message, lang()) or t("errtext.field_invalid")
        label = field_label(exc.field)
        return f"{label}: {text}" if label else text
    found = error_text(exc.message, lang())
    if found is None and ": " in exc.message:  # "page 2: …", "file.png: …": the reason after the label
        found = error_text(exc.message.split(": ", 1)[1], lang())
    return found or t(f"errtext.class.{exc.exit_code.name}")


def reason_of(reason: str) -> str:
    """A bare English reason (live identifier check) in the request's language."""
    if lang() == "en":
        return reason
    return error_text(reason, lang()) or t("errtext.field_invalid")
