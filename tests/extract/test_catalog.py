from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.config import parse_config
from service.domain.codes import validate_document_type_code
from service.domain.errors import ConfigError
from service.domain.number_symbol import ADMIN_TYPE_ABBREVIATIONS
from service.extract.catalog import Catalog
from service.extract.extractor import extract_pages
from tests.extract.pages import decision


def test_packaged_catalog_covers_phu_luc_iii_and_common_papers() -> None:
    cat = Catalog.load()
    for abbr in ADMIN_TYPE_ABBREVIATIONS:
        assert cat.by_abbreviation(abbr) is not None, abbr
    for heading in ("GIẤY KHAI SINH", "GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT", "GIẤY PHÉP XÂY DỰNG",
                    "GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH", "GIẤY CHỨNG NHẬN KẾT HÔN",
                    "GIẤY XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ", "CĂN CƯỚC CÔNG DÂN"):
        match = cat.match_heading(heading)
        assert match is not None and match.score == 1.0, heading
    assert cat.match_heading("GIAY KHAI SJNH").entry.code == "KQ.G15.000031"  # type: ignore[union-attr]
    assert cat.match_heading("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") is None
    for entry in cat.entries:
        assert validate_document_type_code(entry.code) == entry.code


def test_catalog_path_from_config_replaces_codes(tmp_path: Path) -> None:
    custom = tmp_path / "types.json"
    custom.write_text(json.dumps({"types": [{"code": "KQ.H70.000001", "name": "Quyết định", "family":
                                             "administrative", "abbreviation": "QĐ", "headings": ["QUYẾT ĐỊNH"]}]},
                                 ensure_ascii=False), encoding="utf-8")
    cfg = parse_config(f"extract:\n  catalog_path: {custom}\n  review_threshold: 0.9\n")
    assert cfg.extract.catalog_path == custom
    ex = extract_pages([decision()], config=cfg.extract)
    assert ex.document_type.code == "KQ.H70.000001"


@pytest.mark.parametrize("content,needle", [
    ("{", "cannot read"),
    ('{"types": 3}', "'types' list"),
    ('{"types": [{"code": "A B", "name": "x", "family": "administrative", "headings": ["X"]}]}', "not well formed"),
    ('{"types": [{"name": "x"}]}', "missing key"),
    ('{"types": [{"code": "A", "name": "x", "family": "other", "headings": ["X"]}]}', "family"),
    ('{"types": [{"code": "A", "name": "x", "family": "specialised", "headings": ["X"], "category": "9"}]}',
     "unknown digitization category"),
    ('{"types": [{"code": "A", "name": "x", "family": "specialised", "headings": ["X"]},'
     ' {"code": "A", "name": "y", "family": "specialised", "headings": ["Y"]}]}', "appears twice"),
])
def test_bad_catalogs(tmp_path: Path, content: str, needle: str) -> None:
    f = tmp_path / "types.json"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        Catalog.load(f)
    assert needle in err.value.message
    with pytest.raises(ConfigError, match="cannot read"):
        Catalog.load(tmp_path / "missing.json")


def test_bad_extract_config_values() -> None:
    with pytest.raises(ConfigError, match="review_threshold"):
        parse_config("extract:\n  review_threshold: 1.5\n")
    with pytest.raises(ConfigError, match="audit_personal_values"):
        parse_config("extract:\n  audit_personal_values: plain\n")
