"""Officer-facing wording of the service's typed errors (Vietnamese first, English second)."""

from __future__ import annotations

from kiosk_ui.context import t
from service.errors import SohoaError
from service.usecases.kiosk_flow import PinIncorrect, TokenAbsent, TokenLocked, TokenRemoved


def describe(exc: SohoaError) -> str:
    """A message for ``exc`` in the request's language (token errors translated, others as given)."""
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
    return exc.message + (f" — {exc.remedy}" if exc.remedy else "")
