"""The reuse look-up messages stay backward compatible while they learn document types."""

from __future__ import annotations

import json

import pytest

from service.sync import protocol as p


def test_a_request_of_the_first_form_still_parses_and_round_trips() -> None:
    old = json.dumps({"schema": p.REUSE_REQ_SCHEMA, "MaThuTuc": "1.000001", "SoDinhDanhChuSoHuu": "001099012345",
                      "MaHoSo": "HS-1", "DanhSachDanhMucKetQua": [{"MaKetQua": "KQ.G15.000031"}]}).encode()
    q = p.ReuseQuery.decode(old)
    assert q.results == (("KQ.G15.000031", None),) and q.document_types == ()
    assert "DanhSachLoaiGiayTo" not in json.loads(q.encode())


def test_a_request_by_owner_and_document_type_round_trips() -> None:
    q = p.ReuseQuery("1.001193", (), owner_id="001099012345", dossier_code="HS-1",
                     document_types=("KQ.G15.000035", "1.001193.GCS.01"))
    back = p.ReuseQuery.decode(q.encode())
    assert back == q and json.loads(q.encode())["DanhSachLoaiGiayTo"] == ["KQ.G15.000035", "1.001193.GCS.01"]


@pytest.mark.parametrize("types", [[], ["KQ G15"], ["A"] * 2, [f"T{i}" for i in range(21)], "KQ.G15.000035", [7]])
def test_bad_document_type_lists_are_refused(types: object) -> None:
    raw = json.dumps({"schema": p.REUSE_REQ_SCHEMA, "MaThuTuc": "1", "DanhSachLoaiGiayTo": types}).encode()
    with pytest.raises(p.ProtocolError) as err:
        p.ReuseQuery.decode(raw)
    assert err.value.reason == "bad-field"


def test_a_request_with_neither_results_nor_types_is_refused() -> None:
    with pytest.raises(p.ProtocolError):
        p.ReuseQuery.decode(json.dumps({"schema": p.REUSE_REQ_SCHEMA, "MaThuTuc": "1"}).encode())


def test_answers_with_and_without_the_new_hit_fields_parse() -> None:
    hit = p.ReuseHit("C1", "Giấy chứng nhận kết hôn", None, "Sở Tư pháp", (("a.pdf", "sohoa://70/files/x"),),
                     p.ReuseSource.PROVINCE, "KQ.G15.000035", "2019-06-02", "2024-01-01T00:00:00+00:00")
    answer = p.ReuseAnswer((hit,), (p.ReuseSource.PROVINCE,))
    assert p.ReuseAnswer.decode(answer.encode()).hits == (hit,)
    old = json.loads(answer.encode())
    for key in ("MaLoaiGiayTo", "NgayBanHanh", "ThoiDiemLuu"):
        del old["result"]["DanhSachGiayToKetQua"][0][key]
    parsed = p.ReuseAnswer.decode(json.dumps(old).encode()).hits[0]
    assert parsed.document_type is None and parsed.result_code == "C1"
    old["result"]["DanhSachGiayToKetQua"][0]["MaLoaiGiayTo"] = 5
    with pytest.raises(p.ProtocolError):
        p.ReuseAnswer.decode(json.dumps(old).encode())
