"""Pages and JSON of the province view: devices, documents per office and day, owner look-up, look-up log.

Each page has a JSON twin under ``/api/`` reading the same query, so the two always agree.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask import Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from . import auth
from .config import Role, WebUser
from .present import (
    DASH,
    InputProblem,
    device_json,
    parse_dossier,
    parse_owner,
    parse_range,
    vn_bytes,
    vn_date,
    vn_datetime,
    vn_duration,
    vn_number,
)
from .queries import DayCount, Paper, ViewDb

log = logging.getLogger("sohoa.province.web")
OVERVIEW = (Role.PROVINCE_ADMIN, Role.AUDITOR)
NOT_OFFICER = "Chỉ cán bộ một cửa của đơn vị giữ hồ sơ mới được tra cứu giấy tờ của chủ hồ sơ."
NOT_HELD = ("Đơn vị của bạn không giữ hồ sơ này của chủ hồ sơ (hoặc hồ sơ đã quá hạn tra cứu): "
            "không được xem giấy tờ. Lần tra cứu này đã được ghi nhật ký.")
KIND_NAMES = {"component": "Thành phần hồ sơ", "result": "Kết quả"}


def _db() -> ViewDb:
    return cast(ViewDb, current_app.config["DB"])


def _user() -> WebUser:
    user = auth.current_user()
    assert user is not None  # guarded by auth.require
    return user


def mask_owner(owner: str | None) -> str:
    """An identifier as the log shows it: the first three and last two characters."""
    if not owner:
        return DASH
    return owner[:3] + "*" * max(0, len(owner) - 5) + owner[-2:] if len(owner) > 5 else "*" * len(owner)


def _device_cells(d: dict[str, Any]) -> dict[str, str]:
    """The page's text for one device (``device_json`` values, "—" where missing)."""
    def num(v: float | None, unit: str, digits: int = 1) -> str:
        return DASH if v is None else vn_number(v, digits) + unit

    return {"queue": DASH if d["queue"] is None else str(d["queue"]), "lag": vn_duration(d["lag_s"]),
            "oldest": vn_duration(d["oldest_queued_age_s"]), "temp": num(d["cpu_temp_c"], " °C"),
            "disk": vn_bytes(d["disk_free_bytes"]), "software": d["software_version"] or DASH,
            "models": d["model_versions"] or DASH}


def _counts() -> tuple[Any, Any, list[DayCount]]:
    cfg = auth.config()
    today = datetime.now(ZoneInfo(cfg.timezone)).date()
    try:
        first, last = parse_range(request.args.get("tu"), request.args.get("den"), today, cfg.max_range_days)
    except InputProblem as exc:
        raise auth.Refused(400, exc.vi) from None
    return first, last, _db().documents_per_day(first, last, cfg.timezone)


def _paper_json(p: Paper) -> dict[str, Any]:
    return {"document_id": p.document_id, "result_code": p.result_code, "name": p.name,
            "number_symbol": p.number_symbol, "kind": p.kind, "office": p.office, "dossier_code": p.dossier_code,
            "procedure_code": p.procedure_code, "stored_at": p.stored_at.isoformat(), "sha256": p.sha256,
            "signature": p.signature}


def look_up(user: WebUser, owner_text: str, dossier_text: str, channel: str) -> tuple[str, str, list[Paper]]:
    """An officer's look-up of an owner's papers under a dossier; every outcome is a ``gw_view_lookup`` row.

    Raises :class:`auth.Refused` (400 bad input, 403 not this role / dossier not held by the office).
    """
    db = _db()

    def record(outcome: str, owner: str | None = None, dossier: str | None = None, hits: int = 0) -> None:
        db.log_lookup(username=user.username, role=user.role.value, office=user.office, dossier_code=dossier,
                      owner_id=owner, channel=channel, hits=hits, outcome=outcome)
        log.info("look-up by %s (%s, %s): %s, %d papers", user.username, user.role.value, channel, outcome, hits)

    if user.role is not Role.OFFICE_OFFICER or not user.office:
        record("role-not-allowed")
        raise auth.Refused(403, NOT_OFFICER)
    try:
        owner = parse_owner(owner_text)
        dossier = parse_dossier(dossier_text)
    except InputProblem as exc:
        record(f"bad-{exc.field}")
        raise auth.Refused(400, exc.vi) from None
    if not db.office_may_see(user.office, dossier, owner, auth.config().dossier_max_age_days):
        record("not-authorised", owner, dossier)
        raise auth.Refused(403, NOT_HELD)
    papers = db.owner_papers(owner)
    record("answered", owner, dossier, len(papers))
    return owner, dossier, papers


def register_views(app: Flask) -> None:
    """Add the pages and the JSON API to ``app``."""

    @app.get("/devices")
    @auth.require(*OVERVIEW)
    def devices() -> ResponseReturnValue:
        tz = auth.config().timezone
        rows = [(device_json(r), vn_datetime(r.last_seen, tz)) for r in _db().devices()]
        return render_template("devices.html", rows=[(d, {**_device_cells(d), "seen": seen}) for d, seen in rows])

    @app.get("/api/devices")
    @auth.require(*OVERVIEW)
    def api_devices() -> ResponseReturnValue:
        return jsonify({"devices": [device_json(r) for r in _db().devices()]})

    @app.get("/documents")
    @auth.require(*OVERVIEW)
    def documents() -> ResponseReturnValue:
        first, last, rows = _counts()
        total = sum(r.documents for r in rows)
        return render_template("documents.html", first=vn_date(first), last=vn_date(last), rows=rows, total=total)

    @app.get("/api/documents")
    @auth.require(*OVERVIEW)
    def api_documents() -> ResponseReturnValue:
        first, last, rows = _counts()
        return jsonify({"from": vn_date(first), "to": vn_date(last), "total": sum(r.documents for r in rows),
                        "rows": [{"office": r.office, "day": vn_date(r.day), "date": r.day.isoformat(),
                                  "documents": r.documents, "components": r.components, "results": r.results,
                                  "versions": r.versions} for r in rows]})

    @app.route("/lookup", methods=["GET", "POST"])
    @auth.require()
    def lookup() -> ResponseReturnValue:
        user = _user()
        if request.method == "GET":
            if user.role is not Role.OFFICE_OFFICER:
                raise auth.Refused(403, NOT_OFFICER)
            return render_template("lookup.html", error=None, papers=None, owner="", dossier="")
        owner_text, dossier_text = request.form.get("owner_id", ""), request.form.get("dossier_code", "")
        try:
            owner, dossier, papers = look_up(user, owner_text, dossier_text, "page")
        except auth.Refused as exc:
            if user.role is not Role.OFFICE_OFFICER:
                raise
            return render_template("lookup.html", error=exc.message, papers=None, owner=owner_text[:64],
                                   dossier=dossier_text[:64]), exc.status
        return render_template("lookup.html", error=None, papers=papers, owner=owner, dossier=dossier,
                               kinds=KIND_NAMES)

    @app.post("/api/lookup")
    @auth.require()
    def api_lookup() -> ResponseReturnValue:
        body: Any = request.get_json(silent=True) if request.is_json else request.form.to_dict()
        if not isinstance(body, dict):
            raise auth.Refused(400, "Cần gửi một đối tượng JSON có owner_id và dossier_code.")
        owner_text, dossier_text = body.get("owner_id"), body.get("dossier_code")
        if not isinstance(owner_text, str) or not isinstance(dossier_text, str):
            raise auth.Refused(400, "Cần gửi owner_id và dossier_code dạng chuỗi.")
        owner, dossier, papers = look_up(_user(), owner_text, dossier_text, "api")
        return jsonify({"owner_id": owner, "dossier_code": dossier, "papers": [_paper_json(p) for p in papers]})

    @app.get("/lookups")
    @auth.require(Role.AUDITOR)
    def lookups() -> ResponseReturnValue:
        return render_template("lookups.html", rows=_db().lookups(), devices=_db().device_lookups(), mask=mask_owner)

    @app.get("/api/lookups")
    @auth.require(Role.AUDITOR)
    def api_lookups() -> ResponseReturnValue:
        return jsonify({"lookups": [{"at": r.at.isoformat(), "replica": r.replica, "username": r.username,
                                     "role": r.role, "office": r.office, "dossier_code": r.dossier_code,
                                     "owner_id": mask_owner(r.owner_id) if r.owner_id else None,
                                     "channel": r.channel, "hits": r.hits, "outcome": r.outcome}
                                    for r in _db().lookups()],
                        "device_lookups": [{"at": r.at.isoformat(), "replica": r.replica, "device_id": r.device_id,
                                            "office": r.office, "procedure_code": r.procedure_code,
                                            "dossier_code": r.dossier_code,
                                            "owner_id": mask_owner(r.owner_id) if r.owner_id else None,
                                            "requested": r.requested, "hits": r.hits, "outcome": r.outcome}
                                           for r in _db().device_lookups()]})
