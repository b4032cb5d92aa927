"""The kiosk's Flask application factory: blueprints, sessions, CSRF, i18n, security headers."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from kiosk_ui import security
from kiosk_ui.backend import Backend
from kiosk_ui.config import KioskSettings, load_settings
from kiosk_ui.context import audit, backend, lang, refuse, t
from kiosk_ui.messages import describe
from service.errors import SohoaError
from service.paths import get_paths
from service.usecases import kiosk_tech
from service.usecases.input_rules import form_problem
from service.usecases.kiosk_tech import save_private_file

log = logging.getLogger("sohoa.kiosk")

# Requests the page makes by itself: they never count as the user being active.
BACKGROUND_ENDPOINTS = frozenset({"static", "officer.preview", "citizen.preview", "officer.job_state",
                                  "technician.job_state", "officer.status", "officer.preview_quality",
                                  "citizen.preview_quality", "devices.events"})
# Polled by every page (device events): they never end a session themselves, so the user's next
# real request still says why it ended (expired, card pulled).
PASSIVE_ENDPOINTS = frozenset({"static", "devices.events"})
CSP = ("default-src 'self'; img-src 'self' data: blob:; object-src 'none'; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'")


def _secret_key(settings: KioskSettings, home: Path) -> str:
    """The configured secret, else one generated once and kept (0600) under the service home."""
    if settings.secret_key:
        return settings.secret_key
    path = home / "kiosk" / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    key = secrets.token_urlsafe(48)
    save_private_file(path, key.encode("ascii"))
    return key


def _settings(config: KioskSettings | Mapping[str, Any] | None, home: Path) -> KioskSettings:
    if isinstance(config, KioskSettings):
        return config
    if config is not None:
        return KioskSettings.model_validate(dict(config))
    return load_settings(home / "kiosk.yaml")


def create_app(config: KioskSettings | Mapping[str, Any] | None = None) -> Flask:
    """Build the kiosk app; ``config`` overrides ``$SOHOA_HOME/kiosk.yaml`` (tests pass a dict)."""
    paths = get_paths().ensure()
    settings = _settings(config, paths.home)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(settings, paths.home),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="sohoa_kiosk",
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
        KIOSK=settings,
    )
    idle = {"officer": settings.officer_idle_timeout_s, "supervisor": settings.officer_idle_timeout_s,
            "technician": settings.officer_idle_timeout_s, "citizen": settings.citizen_idle_timeout_s}
    back = Backend(paths, settings)
    app.extensions["kiosk_backend"] = back
    app.extensions["kiosk_sessions"] = security.SessionRegistry(idle, settings.officer_max_session_s,
                                                                on_expire=back.session_expired)

    from kiosk_ui.blueprints import auth, citizen, devices, dossiers, officer, reports, reuse_views, technician
    from kiosk_ui.blueprints import metrics as metrics_bp

    app.register_blueprint(auth.bp)
    app.register_blueprint(officer.bp, url_prefix="/officer")
    app.register_blueprint(dossiers.bp, url_prefix="/officer/dossiers")
    app.register_blueprint(reuse_views.bp, url_prefix="/officer/reuse")
    app.register_blueprint(citizen.bp, url_prefix="/citizen")
    app.register_blueprint(technician.bp, url_prefix="/technician")
    app.register_blueprint(reports.bp, url_prefix="/reports")
    app.register_blueprint(devices.bp, url_prefix="/devices")
    app.register_blueprint(metrics_bp.bp)
    _install_hooks(app)

    @app.get("/healthz")
    def healthz() -> Response:
        """200 while the kiosk can serve (database readable, disk not full), else 503; no data."""
        ok = kiosk_tech.liveness(backend().paths)
        return Response("ok\n" if ok else "unhealthy\n", status=200 if ok else 503, mimetype="text/plain")

    return app


def _install_hooks(app: Flask) -> None:
    @app.before_request
    def _load_session() -> Response | None:
        g.settings = app.config["KIOSK"]
        g.kiosk_session = None
        g.session_expired = False
        security.registry().sweep()
        sid = session.get("sid")
        if isinstance(sid, str):
            s, _expired = security.registry().touch(sid, refresh=request.endpoint not in BACKGROUND_ENDPOINTS)
            passive = request.endpoint in PASSIVE_ENDPOINTS
            if s is None and not passive:
                session.pop("sid", None)
                g.session_expired = True
            g.kiosk_session = s
            if s is not None and s.data.get("auth") == "card" and not passive \
                    and not backend().card_present():
                backend().audit(f"{s.role}:{s.user_id}", "card.removed", "", {})
                security.sign_out()
                return redirect(url_for("auth.login", card_removed=1))  # type: ignore[return-value]
        ext = app.extensions.get("kiosk_refusals")
        if ext is not None:
            ext.flush()
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            token = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")
            if not security.csrf_ok(token):
                if g.session_expired:
                    return _unauthorised()
                refuse("csrf.refused")
                return Response(render_template("error.html", code=400, message=t("err.csrf")), status=400)
            bad = form_problem(request.form.to_dict())
            if bad is not None:
                label = t(f"field.{bad}")
                message = t("err.form_text", field=bad if label == f"field.{bad}" else label)
                return Response(render_template("error.html", code=400, message=message), status=400)
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Frame-Options"] = "DENY"
        if resp.mimetype in ("text/html", "application/json", "application/pdf"):
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"t": t, "lang": lang(), "csrf_token": security.csrf_token, "me": security.current(),
                "settings": g.get("settings"), "device_seq": lambda: backend().devices.current_seq()}

    @app.errorhandler(401)
    def _unauth(_e: HTTPException) -> Response:
        return _unauthorised()

    @app.errorhandler(403)
    def _forbidden(_e: HTTPException) -> Response:
        audit("access.refused", request.path)
        return Response(render_template("error.html", code=403, message=t("err.forbidden")), status=403)

    @app.errorhandler(404)
    def _not_found(_e: HTTPException) -> Response:
        return Response(render_template("error.html", code=404, message=t("err.not_found")), status=404)

    @app.errorhandler(409)
    def _conflict(_e: HTTPException) -> Response:
        return Response(render_template("error.html", code=409, message=t("err.conflict")), status=409)

    @app.errorhandler(413)
    def _too_big(_e: HTTPException) -> Response:
        return Response(render_template("error.html", code=413, message=t("err.too_big")), status=413)

    @app.errorhandler(SohoaError)
    def _sohoa(e: SohoaError) -> Response:
        log.warning("request refused: %s (%s)", type(e).__name__, request.endpoint)
        return Response(render_template("error.html", code=422, message=describe(e)), status=422)


def _unauthorised() -> Response:
    """Send an unauthenticated request to the right start screen, saying when it expired."""
    expired = "1" if g.get("session_expired") else ""
    if request.path.startswith("/citizen"):
        return redirect(url_for("citizen.start", expired=expired or None))  # type: ignore[return-value]
    nxt = request.path if request.method == "GET" else None
    return redirect(url_for("auth.login", next=nxt, expired=expired or None))  # type: ignore[return-value]
