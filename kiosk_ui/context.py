"""What every kiosk view needs from the running app: the backend facade, the request's language
and translation, the acting user and the audit helpers.

Views and blueprints import these from here, never from :mod:`kiosk_ui.app` (which imports the
blueprints), so the application factory and its views form no import circle.
"""

from __future__ import annotations

from flask import current_app, g, session

from kiosk_ui import security
from kiosk_ui.backend import Backend
from kiosk_ui.config import KioskSettings
from kiosk_ui.i18n import LANGUAGES, translate
from service.usecases.kiosk_capture import DeskScanner
from service.usecases.kiosk_desk import DeskCamera, DraftStore


def backend() -> Backend:
    """The backend facade of the running app (the only way views reach the service)."""
    b: Backend = current_app.extensions["kiosk_backend"]
    return b


def drafts() -> DraftStore:
    """The draft dossiers of this kiosk (passed to the ``kiosk_desk`` use cases)."""
    return backend().drafts


def camera() -> DeskCamera:
    """The desk camera of this kiosk (passed to the ``kiosk_desk`` use cases)."""
    return backend().camera


def scanner() -> DeskScanner:
    """The document scanner of this kiosk (passed to the ``kiosk_capture`` use cases)."""
    return backend().scanner


def lang() -> str:
    """The language of this request (session choice, else the configured default)."""
    value = session.get("lang")
    if isinstance(value, str) and value in LANGUAGES:
        return value
    settings: KioskSettings = g.settings
    return settings.default_language


def t(key: str, **params: object) -> str:
    """Translate ``key`` into the request's language."""
    return translate(key, lang(), **params)


def actor() -> str:
    """Who is acting, for the audit log: ``role:user`` (no names, no personal data)."""
    s = security.current()
    return f"{s.role}:{s.user_id}" if s is not None else "anonymous"


def audit(action: str, target: str = "", **detail: str) -> None:
    """Append one entry to the service audit log for this request's actor."""
    backend().audit(actor(), action, target, detail)


def refuse(action: str) -> None:
    """Record a refused request: counted per minute for anonymous clients (bounded audit growth)."""
    if security.current() is not None:
        audit(action)
        return
    b = backend()
    security.refusals(lambda act, n, span: b.audit("anonymous", act, "", {"count": str(n),
                                                                          "interval_s": str(span)})).count(action)


