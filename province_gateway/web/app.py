"""The province view's Flask app: login, error pages and JSON errors, security headers (pages in ``views``)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import psycopg
from flask import Flask, Response, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from . import auth
from .config import Role, WebConfig
from .present import vn_date, vn_datetime
from .queries import ViewDb

log = logging.getLogger("sohoa.province.web")
MAX_QUERY_BYTES = 2_048
MAX_BODY_BYTES = 16 * 1024
LOCKOUT_AFTER, LOCKOUT_WINDOW_S = 5, 60  # wrong passwords per user name per minute, all replicas
HTTP_MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    401: "Cần đăng nhập.",
    403: "Bạn không có quyền truy cập.",
    404: "Không tìm thấy trang.",
    405: "Phương thức không được hỗ trợ cho địa chỉ này.",
    413: "Dữ liệu gửi lên quá lớn.",
    414: "Địa chỉ hoặc truy vấn quá dài.",
    429: "Quá nhiều yêu cầu, hãy thử lại sau.",
    500: "Lỗi hệ thống. Hãy thử lại; nếu vẫn lỗi, báo cho quản trị hệ thống.",
    503: "Cơ sở dữ liệu của tỉnh không trả lời. Hãy thử lại sau ít phút.",
}
ROLE_NAMES = {Role.PROVINCE_ADMIN: "Quản trị tỉnh", Role.OFFICE_OFFICER: "Cán bộ một cửa", Role.AUDITOR: "Kiểm tra"}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error(status: int, message: str) -> BaseResponse:
    if _wants_json():
        resp = jsonify({"error": message, "status": status})
        resp.status_code = status
        return resp
    if status == 401:
        return redirect(url_for("login", next=request.full_path if request.method == "GET" else None))
    return Response(render_template("error.html", status=status, message=message), status=status)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home")


def create_app(cfg: WebConfig, db: ViewDb) -> Flask:
    """The WSGI app of one replica (all state in PostgreSQL and the signed cookie)."""
    app = Flask(__name__)
    app.config.update(WEB=cfg, DB=db, SECRET_KEY=cfg.secret_key, MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
                      PERMANENT_SESSION_LIFETIME=timedelta(minutes=cfg.session_minutes),
                      SESSION_COOKIE_NAME="sohoa_province", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_SECURE=cfg.cookie_secure,
                      JSON_AS_ASCII=False)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    @app.before_request
    def _limits() -> None:
        if len(request.query_string) > MAX_QUERY_BYTES:
            raise auth.Refused(414, HTTP_MESSAGES[414])
        if request.method == "POST":
            auth.current_user()
            auth.check_csrf()

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.context_processor
    def _ctx() -> dict[str, Any]:
        return {"me": auth.current_user(), "csrf_token": auth.csrf_token, "role_names": ROLE_NAMES, "Role": Role,
                "dev": cfg.development, "vn_date": vn_date, "vn_dt": lambda v: vn_datetime(v, cfg.timezone)}

    @app.errorhandler(auth.Refused)
    def _refused(exc: auth.Refused) -> BaseResponse:
        return _error(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> BaseResponse:
        status = exc.code or 500
        return _error(status, HTTP_MESSAGES.get(status, HTTP_MESSAGES[400]))

    @app.errorhandler(psycopg.OperationalError)
    def _db_down(exc: psycopg.OperationalError) -> BaseResponse:
        log.error("database unavailable: %s", exc.__class__.__name__)
        return _error(503, HTTP_MESSAGES[503])

    @app.errorhandler(Exception)
    def _crash(exc: Exception) -> BaseResponse:
        log.error("request failed: %s", exc.__class__.__name__)  # never the request's data
        return _error(500, HTTP_MESSAGES[500])

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, Any], int]:
        try:
            db.ping()
        except psycopg.Error:
            return {"ok": False, "database": "down"}, 503
        return {"ok": True, "replica": db.replica}, 200

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if request.method == "GET":
            return render_template("login.html", error=None, next=request.args.get("next", ""))
        username = request.form.get("username", "")[:64]
        again = request.form.get("next", "")
        if db.recent_login_failures(username, LOCKOUT_WINDOW_S) >= LOCKOUT_AFTER:
            log.warning("login refused: too many failures")
            return render_template("login.html", error="Đăng nhập sai quá nhiều lần. Hãy thử lại sau một phút.",
                                   next=again), 429
        user = auth.check_password(username, request.form.get("password", "")[:256])
        if user is None:
            db.login_failed(username)
            log.warning("failed login")
            return render_template("login.html", error="Tên đăng nhập hoặc mật khẩu không đúng.", next=again), 401
        auth.log_in(user)
        log.info("login %s (%s)", user.username, user.role.value)
        return redirect(_safe_next(request.form.get("next")))

    @app.post("/logout")
    def logout() -> BaseResponse:
        auth.log_out()
        return redirect(url_for("login"))

    @app.get("/")
    @auth.require()
    def home() -> BaseResponse:
        user = auth.current_user()
        assert user is not None
        return redirect(url_for("lookup" if user.role is Role.OFFICE_OFFICER else "devices"))

    from .views import register_views

    register_views(app)
    return app
