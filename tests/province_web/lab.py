"""A gateway database with known content, filled through the gateway's real ingest path (``Handler``).

Telemetry and documents go in as MQTT payloads handed to :class:`province_gateway.handler.Handler`
(signature checking off: the PDFs are tiny stand-ins); dossiers through ``register_dossier``.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from province_gateway.db import GatewayDb, connect, register_device, register_dossier
from province_gateway.filestore import GatewayFileStore
from province_gateway.handler import Handler
from province_gateway.verify import SignatureChecker, SignaturePolicy
from province_gateway.web.config import hash_password
from service.sync import protocol as p

PROVINCE = "70"
OFFICE_A, OFFICE_B = "000.00.70.H01", "000.00.70.H02"
DEVICE_A, DEVICE_B = "dev-a-0001", "dev-b-0002"
OWNER = "036195004321"
DOSSIER = "000.00.70.H01-261202-0001"
PASSWORDS = {"tinh": "tinh-pass", "motcua-a": "motcua-a-pass", "motcua-b": "motcua-b-pass", "kiemtoan": "kt-pass"}
_HASHES = {name: hash_password(pw) for name, pw in PASSWORDS.items()}


def web_config(**extra: Any) -> dict[str, Any]:
    """A ``web.yaml`` document: admin, officers of offices A and B, auditor."""
    users = [
        {"username": "tinh", "password_hash": _HASHES["tinh"], "role": "province_admin"},
        {"username": "motcua-a", "password_hash": _HASHES["motcua-a"], "role": "office_officer", "office": OFFICE_A},
        {"username": "motcua-b", "password_hash": _HASHES["motcua-b"], "role": "office_officer", "office": OFFICE_B},
        {"username": "kiemtoan", "password_hash": _HASHES["kiemtoan"], "role": "auditor"},
    ]
    return {"secret_key": "province-view-test-secret-" + "k" * 32, "users": users, **extra}


class Ingest:
    """Feeds one gateway database as a gateway replica would."""

    def __init__(self, dsn: str, files: Path) -> None:
        connect(dsn).close()
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.handler = Handler(GatewayDb(self.conn, "gw-test"), GatewayFileStore(files),
                               SignatureChecker(SignaturePolicy.OFF, []), max_message_bytes=p.MAX_CHUNK_BYTES + 65536)
        for device, office in ((DEVICE_A, OFFICE_A), (DEVICE_B, OFFICE_B)):
            register_device(dsn, device, PROVINCE, office)
        self.dsn = dsn

    def telemetry(self, device: str, **values: int | float | str) -> None:
        """One telemetry message from ``device``."""
        out = self.handler.handle(p.topic(PROVINCE, device, p.Kind.TELEMETRY), p.telemetry_payload(device, **values),
                                  None, None)
        assert out == [] and self.handler.counts.get("telemetry"), self.handler.counts

    def document(self, device: str, doc_id: str, *, owner: str = OWNER, dossier: str = DOSSIER, kind: str = "0",
                 name: str = "Giấy khai sinh", result_code: str | None = None) -> str:
        """Deliver one document version (manifest then its single chunk); returns its SHA-256."""
        data = b"%PDF-1.7\n" + doc_id.encode() + b"\n%%EOF\n"
        sha = hashlib.sha256(data).hexdigest()
        ref = p.FileRef(f"{doc_id}.pdf", "application/pdf", len(data), sha, 1024)
        m = p.Manifest(doc_id, device, PROVINCE, name, ref, "20261202080000", result_code=result_code,
                       dossier_code=dossier, kind=kind, metadata={"SoDinhDanhChuSoHuu": owner})
        self.handler.handle(p.topic(PROVINCE, device, p.Kind.MANIFEST), m.encode(), None, None)
        hdr = p.ChunkHeader(doc_id, sha, 0, sha)
        out = self.handler.handle(p.topic(PROVINCE, device, p.Kind.CHUNK), data, hdr.to_properties(), None)
        assert out and p.Ack.decode(out[0].payload).status is p.AckStatus.STORED, self.handler.counts
        return sha

    def device_lookup(self, device: str, dossier: str = DOSSIER, owner: str = OWNER) -> str:
        """A reuse look-up a device sends over MQTT; returns the gateway's outcome code."""
        q = p.ReuseQuery("1.001193", (("KQ.70.001", None),), owner, dossier)
        out = self.handler.handle(p.topic(PROVINCE, device, p.Kind.REUSE_REQ), q.encode(), None, None)
        return p.ReuseAnswer.decode(out[0].payload).message

    def dossier(self, office: str, code: str, owner: str = OWNER) -> None:
        """The one-stop-shop system reports a dossier ``office`` opened for ``owner``."""
        register_dossier(self.dsn, office, code, owner, "1.001193")

    def lookup_rows(self) -> list[tuple[Any, ...]]:
        """``gw_view_lookup`` rows: (replica, username, office, dossier, owner, channel, hits, outcome)."""
        return self.conn.execute("SELECT replica, username, office, dossier_code, owner_id, channel, hits, outcome"
                                 " FROM gw_view_lookup ORDER BY id").fetchall()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


@dataclass
class Reply:
    """An HTTP answer."""

    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class Client:
    """A cookie-keeping HTTP client of one replica (urllib; no redirects followed)."""

    def __init__(self, base: str, jar: http.cookiejar.CookieJar | None = None) -> None:
        self.base = base
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, path: str, *, form: dict[str, str] | None = None, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        """GET, or POST ``form`` / ``body``."""
        data = urllib.parse.urlencode(form).encode() if form is not None else body
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=30) as resp:
                return Reply(resp.status, resp.read().decode("utf-8"), dict(resp.headers))
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers))

    def csrf(self, path: str = "/login") -> str:
        """The CSRF token of the form on ``path``."""
        m = re.search(r'name="csrf_token" value="([^"]+)"', self.request(path).body)
        assert m, path
        return m.group(1)

    def login(self, username: str, password: str | None = None) -> Reply:
        """Sign in with the login form."""
        token = self.csrf()
        return self.request("/login", form={"username": username, "password": password or PASSWORDS[username],
                                            "csrf_token": token})
