"""Gateway-side fuzzing (hypothesis, bounded) against the real handler on PostgreSQL.

For every generated manifest, chunk (payload + user properties), reuse request, status and
telemetry message: the handler never raises, each message is either accepted or refused, and
every refusal is a ``gw_event`` row with its reason.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from province_gateway.db import GatewayDb, connect, register_dossier
from province_gateway.filestore import GatewayFileStore
from province_gateway.handler import Handler
from province_gateway.verify import SignatureChecker, SignaturePolicy
from service.sync import protocol as p

DEV = "dev-a-0001"
SHA = hashlib.sha256(b"x" * 3000).hexdigest()
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
NASTY = ["", "\x00", "a\x00b", "²", "٣", "1\n", "dev-a-0001\n", "\ud800", "x" * 2000, "70\n", "ab" * 32 + "\n",
         "../../etc", "$share/gw/#", "null", "0", "-1", "9" * 30, "\u202e", "ǅ", "\n"]
text = st.one_of(st.sampled_from(NASTY), st.text(max_size=40),
                 st.text(alphabet=st.characters(codec="utf-8", categories=None), max_size=10))
scalar = st.one_of(text, st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True),
                   st.booleans(), st.none())
jsonish = st.recursive(scalar, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(text, kids, max_size=4),
                       max_leaves=12)


class Fuzzed:
    """A handler on a fresh database whose registry knows ``DEV``; counts refusals in both places."""

    def __init__(self, dsn: str, files: Path) -> None:
        conn = connect(dsn)  # the dsn fixture enrolled DEV (province 70, office-a)
        register_dossier(dsn, "office-a", "HS-1", "001099012345", None)
        self.conn = conn
        self.h = Handler(GatewayDb(conn, "fuzz"), GatewayFileStore(files), SignatureChecker(SignaturePolicy.OFF, []),
                         max_message_bytes=p.MAX_CHUNK_BYTES + 64 * 1024)

    def rejected_rows(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM gw_event WHERE event='rejected'").fetchone()[0])

    def send(self, kind: p.Kind | str, payload: bytes, user: list[tuple[str, str]] | None = None) -> list[Any]:
        """Handle one message and check the invariants; returns what the gateway would publish."""
        topic = p.topic("70", DEV, kind) if isinstance(kind, p.Kind) else kind
        before = sum(self.h.counts.values())
        outs = self.h.handle(topic, payload, user, b"corr")  # must never raise
        assert sum(self.h.counts.values()) > before, "a message was neither accepted nor refused"
        refused = sum(v for k, v in self.h.counts.items() if k.startswith("rejected:"))
        refused += sum(v for k, v in self.h.counts.items() if k.startswith("reuse:") and k != "reuse:answered")
        assert self.rejected_rows() == refused, "a refusal without its gw_event row"
        for out in outs:
            assert len(out.payload) <= 16 * 1024
        return outs

    def last_reason(self) -> str:
        row = self.conn.execute("SELECT reason FROM gw_event WHERE event='rejected' ORDER BY id DESC LIMIT 1")
        return str(row.fetchone()[0])


@pytest.fixture
def fz(dsn: str, tmp_path: Path) -> Fuzzed:
    f = Fuzzed(dsn, tmp_path / "files")
    yield f  # type: ignore[misc]
    f.conn.close()


def good_manifest() -> dict[str, Any]:
    ref = p.FileRef("a.pdf", "application/pdf", 3000, SHA, 1024)
    return p.Manifest("doc-1", DEV, "70", "GCN", ref, "20240101000000").to_json()


def test_known_holes_are_refused_with_a_recorded_reason(fz: Fuzzed) -> None:
    fz.send(p.Kind.MANIFEST, p.dump_json(good_manifest()))
    for bad_seq in ("²", "٣", "1\n", "-1", "", "12345678"):
        hdr = [("doc", "doc-1"), ("file", SHA), ("seq", bad_seq), ("sha256", SHA)]
        fz.send(p.Kind.CHUNK, b"x" * 1024, hdr)
        assert fz.last_reason() == "chunk:bad-chunk-header"
    for field, value in (("TenGiayTo", "a\x00b"), ("TenGiayTo", "\ud800"), ("GiayToId", "doc-1\n"),
                         ("MaThietBi", DEV + "\n"), ("MaTinh", "70\n")):
        fz.send(p.Kind.MANIFEST, json.dumps({**good_manifest(), field: value}).encode())
        assert fz.last_reason() == "manifest:bad-field", field
    for telemetry in ({"queue": float("nan")}, {"a\x00": 1}, {"audit_head": "\ud800"}, {"x": [1]}):
        fz.send(p.Kind.TELEMETRY, json.dumps(telemetry).encode())
        assert fz.last_reason() == "telemetry:bad-field", telemetry
    fz.send(p.Kind.TELEMETRY, p.telemetry_payload(DEV, queue=1, audit_head="ab" * 32))  # a newer field is kept
    assert fz.h.counts["telemetry"] == 1
    fz.send(f"sohoa/v1/70/{DEV}\n/up/manifest", p.dump_json(good_manifest()))
    assert fz.last_reason() == "?:bad-topic"


def test_fuzz_manifests(fz: Fuzzed) -> None:
    @FUZZ
    @given(over=st.dictionaries(st.sampled_from(sorted(good_manifest())), jsonish, max_size=3),
           file_over=st.dictionaries(st.sampled_from(["TenTep", "LoaiTep", "KichThuoc", "MaBam", "KichThuocManh",
                                                      "SoManh", "DuongDan"]), jsonish, max_size=3),
           meta=st.dictionaries(text, jsonish, max_size=3))
    def run(over: dict[str, Any], file_over: dict[str, Any], meta: dict[str, Any]) -> None:
        m = {**good_manifest(), **over, "ThongTinMoTa": meta}
        if isinstance(m.get("TepDinhKem"), dict):
            m["TepDinhKem"] = {**m["TepDinhKem"], **file_over}
        fz.send(p.Kind.MANIFEST, json.dumps(m).encode())

    run()


def test_fuzz_chunks_and_their_properties(fz: Fuzzed) -> None:
    fz.send(p.Kind.MANIFEST, p.dump_json(good_manifest()))
    keys = st.sampled_from(["doc", "file", "seq", "sha256", "x", "", "seq\n"])

    @FUZZ
    @given(payload=st.binary(max_size=2048), props=st.lists(st.tuples(keys, text), max_size=6),
           seq=st.one_of(st.integers(-3, 5).map(str), text), claim_real=st.booleans())
    def run(payload: bytes, props: list[tuple[str, str]], seq: str, claim_real: bool) -> None:
        digest = hashlib.sha256(payload).hexdigest() if claim_real else SHA
        user = [("doc", "doc-1"), ("file", SHA), ("seq", seq), ("sha256", digest), *props]
        fz.send(p.Kind.CHUNK, payload, user)

    run()


def test_fuzz_reuse_requests_status_and_telemetry(fz: Fuzzed) -> None:
    @FUZZ
    @given(kind=st.sampled_from([p.Kind.REUSE_REQ, p.Kind.STATUS, p.Kind.TELEMETRY]),
           body=st.dictionaries(st.sampled_from(["schema", "MaThuTuc", "DanhSachDanhMucKetQua", "SoDinhDanhChuSoHuu",
                                                 "MaHoSo", "TrangThai", "MaThietBi", "queue", "audit_head"]) | text,
                                jsonish, max_size=5),
           raw=st.one_of(st.none(), st.binary(max_size=64)))
    def run(kind: p.Kind, body: dict[str, Any], raw: bytes | None) -> None:
        if kind is p.Kind.REUSE_REQ and "schema" not in body:
            body = {"schema": p.REUSE_REQ_SCHEMA, "MaThuTuc": "1.0", "MaHoSo": "HS-1",
                    "SoDinhDanhChuSoHuu": "001099012345", "DanhSachDanhMucKetQua": [{"MaKetQua": "KQ"}], **body}
        payload = raw if raw is not None else json.dumps(body).encode()
        fz.send(kind, payload)

    run()
    with psycopg.connect(fz.conn.info.dsn) as conn:  # every look-up, answered or refused, has its row
        logged = conn.execute("SELECT count(*) FROM gw_lookup").fetchone()[0]
    reuse_counts = sum(v for k, v in fz.h.counts.items() if k.startswith("reuse:"))
    assert logged == reuse_counts
