"""Bounded fuzzing of every untrusted input: image headers, QR payloads, config, catalogues, kiosk forms.

Each parser must return a value or raise its typed error (:class:`SohoaError`); anything else is a
crash. Examples are bounded (``max_examples``) and each input is small, so nothing can hang.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from service.capture.config import CaptureConfig
from service.capture.images import load_page_image
from service.domain.errors import SohoaError
from service.domain.text import clean_text
from service.extract.qr import parse_cccd_qr
from service.procedures.catalogue import parse_catalogue
from service.usecases.input_rules import form_problem

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CFG = CaptureConfig(require_colour=False)


def _image(fmt: str) -> bytes:
    img = Image.new("RGB", (300, 420), (250, 250, 250))
    for y in range(40, 400, 30):
        img.paste((20, 20, 20), (30, y, 270, y + 8))
    buf = io.BytesIO()
    img.save(buf, fmt, dpi=(300, 300))
    return buf.getvalue()


SEEDS = {fmt: _image(fmt) for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF")}


@FAST
@given(fmt=st.sampled_from(sorted(SEEDS)), edits=st.lists(st.tuples(st.integers(0, 199), st.integers(0, 255)),
                                                          min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(0, 4000)))
@example(fmt="TIFF", edits=[(166, 1)], cut=None)  # a damaged tag: Pillow raised TypeError counting frames
def test_damaged_image_headers_are_typed_errors(fmt: str, edits: list[tuple[int, int]], cut: int | None) -> None:
    data = bytearray(SEEDS[fmt])
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut is not None:
        del data[cut:]
    try:
        page = load_page_image(bytes(data), name="page 1", config=CFG)
    except SohoaError:
        return
    page.verify()  # accepted: then it is a real, hashed page


@FAST
@given(st.binary(max_size=300))
def test_random_bytes_are_not_images(data: bytes) -> None:
    with pytest.raises(SohoaError):
        load_page_image(b"\x89PNG\r\n\x1a\n" + data, name="page 1", config=CFG)


@FAST
@given(st.one_of(st.text(max_size=400), st.binary(max_size=400),
                 st.lists(st.text(max_size=40), min_size=7, max_size=7).map("|".join)))
def test_qr_payloads_are_parsed_or_refused(payload: str | bytes) -> None:
    try:
        parse_cccd_qr(payload)
    except SohoaError as exc:
        assert exc.exit_code in (3, 5)


_yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                          st.text(max_size=20))
_sections = st.sampled_from(["capture", "store", "codes", "ocr", "pdf", "identity", "devices", "sync", "x"])
_keys = st.sampled_from(["min_dpi", "require_colour", "busy_timeout_ms", "device_id", "camera", "type", "x"])


@FAST
@given(st.one_of(
    st.text(max_size=300),
    st.dictionaries(_sections, st.one_of(_yaml_scalars, st.dictionaries(_keys, _yaml_scalars, max_size=4)),
                    max_size=4).map(lambda d: json.dumps(d)),
))
def test_config_text_is_validated_or_refused(text: str) -> None:
    from service.config import parse_config

    try:
        parse_config(text, "config.yaml")
    except SohoaError as exc:
        assert exc.exit_code == 6


_json = st.recursive(_yaml_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(st.text(max_size=10), inner,
                                                                             max_size=4)), max_leaves=30)
_catalogue_like = st.fixed_dictionaries({"fields": st.lists(st.fixed_dictionaries({
    "code": st.text(max_size=8), "name": st.text(max_size=20),
    "procedures": st.lists(st.fixed_dictionaries({
        "code": st.text(max_size=8), "name": st.text(max_size=20), "return_days": _yaml_scalars,
        "components": st.lists(st.dictionaries(st.sampled_from(["code", "name", "pages", "required"]),
                                               _yaml_scalars), max_size=3)}), max_size=3)}), max_size=3)})


@FAST
@given(st.one_of(_json.map(json.dumps), _catalogue_like.map(json.dumps)).map(str.encode), st.sampled_from(
    ["c.json", "c.csv"]))
def test_catalogue_files_are_parsed_or_refused(raw: bytes, name: str) -> None:
    try:
        parse_catalogue(raw, name)
    except SohoaError as exc:
        assert exc.exit_code == 3


@FAST
@given(st.dictionaries(st.sampled_from(["owner_name", "owner_id", "qr_payload", "code", "TK__summary",
                                        "TK__mismatch", "username"]), st.text(max_size=300), max_size=5))
def test_form_rule_never_crashes_and_agrees_with_the_field_rule(form: dict[str, str]) -> None:
    bad = form_problem(form)
    for name, value in form.items():
        field = name.rpartition("__")[2].replace("mismatch", "mismatch_reason")
        try:
            clean_text(field, value)
        except SohoaError:
            assert bad is not None
            return
    assert bad is None


@pytest.fixture(scope="module")
def kiosk_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import os

    from kiosk_ui.app import create_app

    old = os.environ.get("SOHOA_HOME")
    os.environ["SOHOA_HOME"] = str(tmp_path_factory.mktemp("fuzz-home"))
    try:
        app = create_app({"secret_key": "test-secret-key-" + "x" * 32, "dev_accounts": True})
    finally:
        if old is not None:
            os.environ["SOHOA_HOME"] = old
    yield app
    app.extensions["kiosk_backend"].close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(user=st.text(max_size=80), password=st.text(max_size=80), extra=st.text(max_size=200))
def test_kiosk_login_form_never_errors_500(kiosk_app: Any, user: str, password: str, extra: str) -> None:
    client = kiosk_app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token is not None
    resp = client.post("/login/password", data={"username": user, "password": password, "note": extra,
                                                "csrf_token": token.group(1)})
    assert resp.status_code in (302, 400, 401, 429), resp.status_code
