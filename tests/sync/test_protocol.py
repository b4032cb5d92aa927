"""The wire protocol's parsing: every malformed input is a ProtocolError with a reason code."""

from __future__ import annotations

import json

import pytest

from service.domain.errors import SyncError
from service.sync import protocol as p
from service.sync.pacing import Backoff, TokenBucket

SHA = "ab" * 32


def manifest(**over: object) -> p.Manifest:
    ref = p.FileRef("KQ.pdf", "application/pdf", 10_000, SHA, 4096)
    base: dict[str, object] = dict(document_id="doc-1", device_id="dev-a-0001", province="70", name="Giấy chứng nhận",
                                   file=ref, created="20240315101010", result_code="KQ.G15.000031",
                                   metadata={"CodeNotation": "12/GCN", "PageAmount": 2})
    base.update(over)
    return p.Manifest(**base)  # type: ignore[arg-type]


def test_manifest_round_trip_uses_portal_field_names() -> None:
    m = manifest()
    data = json.loads(m.encode())
    assert data["GiayToId"] == "doc-1" and data["TenGiayTo"] == "Giấy chứng nhận"
    assert data["MaGiayToKetQua"] == "KQ.G15.000031"
    assert data["TepDinhKem"] == {"TenTep": "KQ.pdf", "LoaiTep": "application/pdf", "KichThuoc": 10_000,
                                  "MaBam": SHA, "KichThuocManh": 4096, "SoManh": 3}
    assert p.Manifest.decode(m.encode()) == m


@pytest.mark.parametrize("mutate,reason", [
    (lambda d: d.pop("GiayToId"), "missing-field"),
    (lambda d: d.update(schema="sohoa.manifest/9"), "bad-schema"),
    (lambda d: d["TepDinhKem"].update(MaBam="xyz"), "bad-field"),
    (lambda d: d["TepDinhKem"].update(SoManh=7), "bad-field"),
    (lambda d: d["TepDinhKem"].update(KichThuoc=-1), "bad-field"),
    (lambda d: d.update(MaThietBi="../etc"), "bad-field"),
    (lambda d: d.update(ThongTinMoTa={"bad key": "x"}), "bad-field"),
    (lambda d: d.update(ThongTinMoTa={"k": {"nested": 1}}), "bad-field"),
    (lambda d: d.update(LoaiSoHoa="7"), "bad-field"),
    (lambda d: d.update(ThoiDiemTao="2024-03-15"), "bad-field"),
    (lambda d: d.update(TenGiayTo="a\x00b"), "bad-field"),
    (lambda d: d.update(ThongTinMoTa={"k": 2**80}), "bad-field"),
])
def test_malformed_manifests_are_refused_with_a_reason(mutate, reason) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(manifest().encode())
    mutate(data)
    with pytest.raises(p.ProtocolError) as err:
        p.Manifest.decode(json.dumps(data).encode())
    assert err.value.reason == reason
    assert isinstance(err.value, SyncError)


@pytest.mark.parametrize("payload,reason", [
    (b"\xff\xfe", "not-json"), (b"[1,2]", "not-an-object"), (b"[" * 30_000, "not-json"),
    (b'{"a": ' + b"9" * 5000 + b"}", "not-json"), (b"{" + b" " * 70_000 + b"}", "oversized"),
])
def test_undecodable_payloads(payload: bytes, reason: str) -> None:
    with pytest.raises(p.ProtocolError) as err:
        p.Manifest.decode(payload)
    assert err.value.reason == reason


def test_topics_parse_and_refuse_foreign_shapes() -> None:
    t = p.topic("70", "dev-a-0001", p.Kind.MANIFEST)
    assert t == "sohoa/v1/70/dev-a-0001/up/manifest"
    info = p.parse_topic(t)
    assert (info.province, info.device, info.kind) == ("70", "dev-a-0001", p.Kind.MANIFEST)
    assert p.topic("70", "dev-a-0001", p.Kind.ACK).endswith("/down/ack")
    for bad in ("sohoa/v2/70/dev-a-0001/up/manifest", "sohoa/v1/70/dev-a-0001/down/manifest",
                "sohoa/v1/7/dev-a-0001/up/manifest", "x/v1/70/d/up/manifest", "sohoa/v1/70/dev-a-0001/up/evil"):
        with pytest.raises(p.ProtocolError):
            p.parse_topic(bad)
    assert p.gateway_subscription() == "$share/gw/sohoa/v1/+/+/up/#"


def test_chunk_header_and_ack() -> None:
    h = p.ChunkHeader("doc-1", SHA, 3, "cd" * 32)
    assert p.ChunkHeader.from_properties(h.to_properties()) == h
    with pytest.raises(p.ProtocolError):
        p.ChunkHeader.from_properties([*h.to_properties(), ("seq", "4")])
    with pytest.raises(p.ProtocolError):
        p.ChunkHeader.from_properties([("doc", "doc-1"), ("file", SHA), ("seq", "-1"), ("sha256", SHA)])
    ack = p.Ack("doc-1", SHA, p.AckStatus.NEED, need=(0, 2))
    assert p.Ack.decode(ack.encode()) == ack
    stored = p.Ack("doc-1", SHA, p.AckStatus.STORED, receipt="GW-1")
    assert p.Ack.decode(stored.encode()).receipt == "GW-1"


def test_file_ref_chunk_lengths() -> None:
    ref = p.FileRef("a.pdf", "application/pdf", 10_000, SHA, 4096)
    assert ref.chunks == 3
    assert [ref.expected_length(i) for i in range(3)] == [4096, 4096, 10_000 - 8192]
    assert p.FileRef("e.pdf", "application/pdf", 0, SHA, 4096).chunks == 1


def test_reuse_messages_round_trip() -> None:
    q = p.ReuseQuery("1.001234", (("KQ.G15.000031", "12/GCN"),), owner_id="001099012345")
    assert p.ReuseQuery.decode(q.encode()) == q
    hit = p.ReuseHit("KQ.G15.000031", "GCN", "12/GCN", "Kho", (("a.pdf", "sohoa://70/files/x"),),
                     p.ReuseSource.BILATERAL)
    ans = p.ReuseAnswer((hit,), (p.ReuseSource.PROVINCE, p.ReuseSource.BILATERAL))
    assert p.ReuseAnswer.decode(ans.encode()) == ans


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    b = Backoff(1.0, 30.0, 0.5)
    delays = [b.next_delay() for _ in range(8)]
    for n, d in enumerate(delays, start=1):
        base = min(30.0, 2 ** (n - 1))
        assert base * 0.5 <= d <= base
    assert len({round(d, 6) for d in delays}) > 1


def test_token_bucket_caps_rate() -> None:
    import time

    bucket = TokenBucket(200_000, burst=20_000)
    started = time.monotonic()
    for _ in range(10):
        bucket.consume(20_000)
    elapsed = time.monotonic() - started
    assert 0.8 <= elapsed <= 2.0  # 200 kB at 200 kB/s less one burst


def test_manifest_json_schema_file_matches_the_doc_and_the_parser() -> None:
    import re
    from pathlib import Path

    import jsonschema

    root = Path(__file__).resolve().parents[2]
    schema = json.loads((root / "service/sync/manifest.schema.json").read_text())
    block = re.search(r"```json\n(.*?)```", (root / "docs/sync-protocol.md").read_text(), re.S)
    assert block is not None and json.loads(block.group(1)) == schema
    jsonschema.Draft202012Validator.check_schema(schema)
    good = json.loads(manifest().encode())
    jsonschema.validate(good, schema)
    for bad in ({**good, "MaThietBi": "UPPER"}, {k: v for k, v in good.items() if k != "TepDinhKem"},
                {**good, "ThongTinMoTa": {"bad key": "x"}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
        with pytest.raises(p.ProtocolError):
            p.Manifest.decode(json.dumps(bad).encode())
