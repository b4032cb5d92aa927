"""Roles, CSRF and bad input: each refusal is a clear Vietnamese message with a 4xx status, never a 500."""

from __future__ import annotations

import base64
import logging
import re
from typing import Any

import pytest

from tests.province_web.lab import DEVICE_A, DEVICE_B, DOSSIER, OFFICE_A, OWNER, PASSWORDS, Ingest


def _csrf(client: Any, path: str = "/login") -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert m, path
    return m.group(1)


def _login(client: Any, user: str) -> str:
    resp = client.post("/login", data={"username": user, "password": PASSWORDS[user], "csrf_token": _csrf(client)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return _csrf(client, "/lookup" if user.startswith("motcua") else "/devices")


def _basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORDS[user]}".encode()).decode()}


def _text(resp: Any) -> str:
    return resp.get_data(as_text=True)


def test_anonymous_pages_go_to_login_and_the_api_says_401(app_client: Any) -> None:
    assert app_client.get("/devices").status_code == 302
    resp = app_client.get("/api/devices")
    assert resp.status_code == 401 and resp.get_json()["error"] == "Cần đăng nhập."
    resp = app_client.get("/api/devices", headers={"Authorization": "Basic " + base64.b64encode(b"tinh:x").decode()})
    assert resp.status_code == 401


def test_wrong_password_then_lockout_across_the_shared_database(app_client: Any) -> None:
    for _ in range(5):
        resp = app_client.post("/login", data={"username": "tinh", "password": "sai", "csrf_token": _csrf(app_client)})
        assert resp.status_code == 401 and "không đúng" in _text(resp)
    resp = app_client.post("/login", data={"username": "tinh", "password": PASSWORDS["tinh"],
                                           "csrf_token": _csrf(app_client)})
    assert resp.status_code == 429 and "quá nhiều lần" in _text(resp)


@pytest.mark.parametrize("token", ["", "wrong-token"])
def test_wrong_csrf_is_refused(app_client: Any, ingest: Ingest, token: str) -> None:
    resp = app_client.post("/login", data={"username": "tinh", "password": PASSWORDS["tinh"], "csrf_token": token})
    assert resp.status_code == 400 and "mã CSRF sai" in _text(resp)
    _login(app_client, "motcua-a")
    resp = app_client.post("/lookup", data={"owner_id": OWNER, "dossier_code": DOSSIER, "csrf_token": token})
    assert resp.status_code == 400 and "mã CSRF sai" in _text(resp)
    resp = app_client.post("/api/lookup", json={"owner_id": OWNER, "dossier_code": DOSSIER})
    assert resp.status_code == 400 and "CSRF" in resp.get_json()["error"]
    assert ingest.lookup_rows() == []  # refused before anything was looked up


def test_roles(app_client: Any, ingest: Ingest) -> None:
    ingest.telemetry(DEVICE_A, queue=1)
    refusals = ("Vai trò của bạn không được xem trang này.", "Chỉ cán bộ một cửa")
    for user, allowed, refused in (("tinh", ["/devices", "/documents", "/api/devices"], ["/lookups", "/lookup"]),
                                   ("kiemtoan", ["/devices", "/lookups", "/api/lookups"], ["/lookup"]),
                                   ("motcua-a", ["/lookup"], ["/devices", "/documents", "/lookups", "/api/devices"])):
        for path in (x for x in allowed if x.startswith("/api/")):
            assert app_client.get(path, headers=_basic(user)).status_code == 200, (user, path)
        _login(app_client, user)
        for path in allowed:
            assert app_client.get(path).status_code == 200, (user, path)
        for path in refused:
            resp = app_client.get(path)
            assert resp.status_code == 403, (user, path)
            message = resp.get_json()["error"] if path.startswith("/api/") else _text(resp)
            assert any(r in message for r in refusals), (user, path)
        page = "/lookup" if user.startswith("motcua") else "/devices"
        assert app_client.post("/logout", data={"csrf_token": _csrf(app_client, page)}).status_code == 302
        assert app_client.get(page).status_code == 302  # signed out
    # an admin may not see papers: the attempt is refused and logged
    resp = app_client.post("/api/lookup", json={"owner_id": OWNER, "dossier_code": DOSSIER}, headers=_basic("tinh"))
    assert resp.status_code == 403 and "Chỉ cán bộ một cửa" in resp.get_json()["error"]
    assert ingest.lookup_rows()[-1][1:] == ("tinh", None, None, None, "api", 0, "role-not-allowed")


@pytest.mark.parametrize(("owner", "dossier", "message", "outcome"), [
    ("03619500432", DOSSIER, "Số định danh không hợp lệ", "bad-owner_id"),
    ("036195004321' OR 1=1 --", DOSSIER, "Số định danh không hợp lệ", "bad-owner_id"),
    ("9" * 200, DOSSIER, "dài quá 64", "bad-owner_id"),
    (OWNER, "", "Cần nhập mã hồ sơ", "bad-dossier_code"),
    (OWNER, "HS\x00<script>", "Mã hồ sơ không hợp lệ", "bad-dossier_code"),
])
def test_bad_lookup_input(app_client: Any, ingest: Ingest, owner: str, dossier: str, message: str,
                          outcome: str) -> None:
    token = _login(app_client, "motcua-a")
    resp = app_client.post("/lookup", data={"owner_id": owner, "dossier_code": dossier, "csrf_token": token})
    assert resp.status_code == 400 and message in _text(resp)
    resp = app_client.post("/api/lookup", json={"owner_id": owner, "dossier_code": dossier},
                           headers={"X-CSRF-Token": token})
    assert resp.status_code == 400 and message in resp.get_json()["error"]
    assert [r[-1] for r in ingest.lookup_rows()] == [outcome, outcome]
    assert all(r[4] is None for r in ingest.lookup_rows())  # a bad identifier is not stored


@pytest.mark.parametrize(("query", "message"), [
    ("tu=32/01/2026", "không có trên lịch"),
    ("tu=2026-01-01", "không đúng dạng dd/mm/yyyy"),
    ("den=01/13/2026", "không có trên lịch"),
    ("tu=02/01/2026&den=01/01/2026", "Ngày bắt đầu phải trước"),
    ("tu=01/01/2020&den=01/01/2026", "dài nhất là 366 ngày"),
])
def test_bad_dates(app_client: Any, ingest: Ingest, query: str, message: str) -> None:
    for path in ("/documents", "/api/documents"):
        resp = app_client.get(f"{path}?{query}", headers=_basic("tinh"))
        if path.startswith("/api/"):
            assert resp.status_code == 400 and message in resp.get_json()["error"], resp.get_json()
    _login(app_client, "tinh")
    resp = app_client.get(f"/documents?{query}")
    assert resp.status_code == 400 and message in _text(resp)


def test_oversized_requests(app_client: Any, ingest: Ingest) -> None:
    _login(app_client, "tinh")
    resp = app_client.get("/documents?tu=" + "1" * 5000)
    assert resp.status_code == 414 and "quá dài" in _text(resp)
    token = _login(app_client, "motcua-a")
    resp = app_client.post("/lookup", data={"owner_id": "1" * 40_000, "dossier_code": DOSSIER, "csrf_token": token})
    assert resp.status_code == 413 and "quá lớn" in _text(resp)
    resp = app_client.post("/api/lookup", data=b"[1, 2", headers={"X-CSRF-Token": token,
                                                                    "Content-Type": "application/json"})
    assert resp.status_code == 400 and "JSON" in resp.get_json()["error"]
    assert app_client.get("/no-such-page").status_code == 404


def test_api_lookup_answers_an_authorised_officer_and_never_logs_the_identifier(
        app_client: Any, ingest: Ingest, caplog: pytest.LogCaptureFixture) -> None:
    ingest.document(DEVICE_A, "doc-a-1", kind="1", result_code="KQ.70.001")
    ingest.dossier(OFFICE_A, DOSSIER)
    caplog.set_level(logging.DEBUG)
    resp = app_client.post("/api/lookup", json={"owner_id": OWNER, "dossier_code": DOSSIER},
                           headers=_basic("motcua-a"))
    assert resp.status_code == 200, resp.get_json()
    papers = resp.get_json()["papers"]
    assert [(x["document_id"], x["result_code"], x["office"]) for x in papers] == [("doc-a-1", "KQ.70.001", OFFICE_A)]
    resp = app_client.post("/api/lookup", json={"owner_id": OWNER, "dossier_code": "OTHER-1"},
                           headers=_basic("motcua-a"))
    assert resp.status_code == 403
    log = app_client.get("/api/lookups", headers=_basic("kiemtoan")).get_json()["lookups"]
    assert [(r["outcome"], r["owner_id"]) for r in log] == [("not-authorised", "036*******21"),
                                                           ("answered", "036*******21")]
    assert caplog.records and not any(OWNER in r.getMessage() for r in caplog.records)
    ingest.device_lookup(DEVICE_B)  # office B's box asks over MQTT about office A's dossier
    devices = app_client.get("/api/lookups", headers=_basic("kiemtoan")).get_json()["device_lookups"]
    assert [(r["device_id"], r["outcome"], r["owner_id"]) for r in devices] == [
        (DEVICE_B, "not-authorised", "036*******21")]


def test_a_changed_password_ends_sessions_on_every_replica(dsn: str, ingest: Ingest) -> None:
    from province_gateway.web.app import create_app
    from province_gateway.web.config import WebConfig, hash_password
    from province_gateway.web.queries import ViewDb
    from tests.province_web.lab import web_config

    old = create_app(WebConfig.model_validate(web_config()), ViewDb(dsn, "web-old")).test_client()
    changed = web_config()
    changed["users"][0] = {**changed["users"][0], "password_hash": hash_password("new-password")}
    new = create_app(WebConfig.model_validate(changed), ViewDb(dsn, "web-new")).test_client()
    same = create_app(WebConfig.model_validate(web_config()), ViewDb(dsn, "web-same")).test_client()
    _login(old, "tinh")
    cookie = old.get_cookie("sohoa_province")
    assert cookie is not None
    for client, status in ((same, 200), (new, 401)):
        client.set_cookie("sohoa_province", cookie.value)
        assert client.get("/api/devices").status_code == status
