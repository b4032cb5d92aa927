"""Typed signing and token errors, each with a remedy the officer can act on."""

from __future__ import annotations

from service.domain.errors import SigningError, TokenError


class TokenAbsent(TokenError):
    """No token matching the configured selection is inserted."""


class TokenRemoved(TokenError):
    """The token disappeared during the operation; nothing was changed."""

    def __init__(self, message: str = "the card was removed before the signature was made; "
                 "the document was not changed") -> None:
        super().__init__(message, remedy="insert the card again and sign again")


class PinIncorrect(TokenError):
    """The token rejected the PIN; ``tries_left`` when the token reports it."""

    def __init__(self, tries_left: int | None, count_low: bool) -> None:
        if tries_left == 1:
            hint = "one try left before the card locks"
        elif count_low:
            hint = "the card reports that few tries are left"
        else:
            hint = "the card does not report how many tries are left"
        super().__init__(f"wrong PIN ({hint})", remedy="enter the PIN again carefully; "
                         "after too many wrong PINs the card locks and needs the PUK / the issuing CA")
        self.tries_left = tries_left
        self.count_low = count_low


class TokenLocked(TokenError):
    """The token's user PIN is locked."""

    def __init__(self) -> None:
        super().__init__("the card's PIN is locked", remedy="unblock it with the PUK / SO PIN at the issuing "
                         "CA or the IT officer, then sign again")


class TokenObjectMissing(TokenError):
    """The configured key or certificate is not on the token."""


class PdfaBroken(SigningError):
    """Signing would have produced a file that is no longer PDF/A; it was refused."""
