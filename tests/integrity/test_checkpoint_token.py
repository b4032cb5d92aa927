"""The audit checkpoint signed by a non-exportable key generated on a real PKCS#11 token (SoftHSM2).

The key is made on the token by ``sohoa provision``'s step (:func:`ensure_checkpoint_key`), its
public key pinned beside the checkpoint; verification needs only that pin, so a truncated log with
a rewound head is caught with the token pulled out. Token absent: documents are still stored and
the checkpoint catches up when the token is back.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from pkcs11 import Attribute, ObjectClass
from pkcs11 import exceptions as p11e

from firmware.token import load_module
from provisioning.devtoken import DEV_PIN, init_token
from service.cli.main import main
from service.config import Config, parse_config
from service.domain.errors import ConfigError, TokenError
from service.paths import Paths, get_paths
from service.store.checkpoint import NAME, PIN_NAME
from service.usecases.audit_key import ensure_checkpoint_key, open_store
from tests.integrity.conftest import add
from tests.support.softhsm import SoftHsm

LABEL = "CKPT-DEVICE"


@pytest.fixture
def hsm(tmp_path: Path) -> SoftHsm:
    """A private SoftHSM2 store holding one initialised device token (no key on it yet)."""
    h = SoftHsm(tmp_path / "hsm")
    init_token(h.conf, LABEL, DEV_PIN)
    return h


def _config_text(hsm: SoftHsm, pin_file: Path, label: str = LABEL) -> str:
    return ("store:\n  checkpoint_signer:\n    type: pkcs11\n"
            f"    module: {hsm.module}\n    softhsm2_conf: {hsm.conf}\n    token_label: {label}\n"
            f"    pin_file: {pin_file}\n")


@pytest.fixture
def token_home(sohoa_home: Path, hsm: SoftHsm, tmp_path: Path) -> tuple[Paths, Config]:
    """A home whose config names the token signer; the key generated on the token and pinned."""
    pin_file = tmp_path / "device.pin"
    pin_file.write_text(DEV_PIN + "\n")
    pin_file.chmod(0o600)
    paths = get_paths(sohoa_home)
    paths.ensure()
    paths.config.write_text(_config_text(hsm, pin_file), encoding="utf-8")
    cfg = parse_config(paths.config.read_text(encoding="utf-8"))
    done = ensure_checkpoint_key(paths, cfg)
    assert done.pinned and done.signer == "pkcs11"
    return paths, cfg


def _private_key_session(hsm: SoftHsm) -> object:
    lib = load_module(hsm.module, str(hsm.conf))
    token = lib.get_token(token_label=LABEL)
    try:
        return token.open(user_pin=DEV_PIN)
    except p11e.UserAlreadyLoggedIn:  # the signer's kept session logged this process in already
        return token.open()


def test_the_key_is_generated_on_the_token_and_cannot_be_read(token_home: tuple[Paths, Config],
                                                              hsm: SoftHsm) -> None:
    session = _private_key_session(hsm)
    try:
        keys = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY,  # type: ignore[attr-defined]
                                         Attribute.LABEL: "audit-checkpoint"}))
        assert len(keys) == 1
        key = keys[0]
        assert key[Attribute.SENSITIVE] is True and key[Attribute.EXTRACTABLE] is False
        assert key[Attribute.NEVER_EXTRACTABLE] is True and key[Attribute.ALWAYS_SENSITIVE] is True
        with pytest.raises(p11e.AttributeSensitive):
            key[Attribute.VALUE]  # noqa: B018 - reading the private value must fail
    finally:
        session.close()  # type: ignore[attr-defined]
    pin = json.loads((token_home[0].home / PIN_NAME).read_text())
    assert pin["signer"] == "pkcs11" and "BEGIN" not in pin["public_key"]  # only the public half is stored


def test_a_checkpoint_signed_on_the_token_verifies_and_verify_names_the_signer(
        token_home: tuple[Paths, Config], capsys: pytest.CaptureFixture[str]) -> None:
    paths, cfg = token_home
    with open_store(paths, cfg) as store:
        add(store, 1)
        add(store, 2)
        head = store.audit_head()
    body = json.loads((paths.home / NAME).read_text())
    assert (body["seq"], body["row_hash"]) == head and body["signer"] == "pkcs11"
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert f"note: audit head signed by pkcs11 key {body['key_id'][:16]}" in out and LABEL in out
    assert "not covered" not in out


def test_truncation_and_a_rewound_head_are_caught_without_the_token(
        token_home: tuple[Paths, Config], hsm: SoftHsm, edit_db: Callable[..., None]) -> None:
    paths, cfg = token_home
    with open_store(paths, cfg) as store:
        add(store, 1)
        add(store, 2)
    conn = sqlite3.connect(paths.database)
    last = conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
    prev = conn.execute("SELECT row_hash FROM audit WHERE seq=?", (last - 1,)).fetchone()[0]
    conn.close()
    edit_db(f"DELETE FROM audit WHERE seq={last}", f"UPDATE audit_head SET seq={last - 1}, row_hash='{prev}'",
            drop_guards=True)
    hsm.pull(LABEL)  # verification needs only the pinned public key
    with open_store(paths, cfg) as store:
        report = store.verify()
    assert not report.ok
    assert any(f"audit rows {last}..{last} were removed" in p for p in report.problems), report.problems


def test_a_checkpoint_signed_by_another_key_is_refused(token_home: tuple[Paths, Config], hsm: SoftHsm,
                                                       tmp_path: Path) -> None:
    paths, cfg = token_home
    with open_store(paths, cfg) as store:
        add(store, 1)
    # another token's non-exportable key signs a checkpoint of a shorter log
    init_token(hsm.conf, "CKPT-OTHER", DEV_PIN)
    other_pin = tmp_path / "other.pin"
    other_pin.write_text(DEV_PIN)
    other = parse_config(_config_text(hsm, other_pin, "CKPT-OTHER"))
    from service.store.checkpoint import Checkpoint, _payload, key_id_of
    from service.usecases.audit_key import TokenCheckpointSigner

    assert other.store.checkpoint_signer.type == "pkcs11"
    signer = TokenCheckpointSigner(other.store.checkpoint_signer, paths)
    der = signer.create()
    for kid in (key_id_of(der), json.loads((paths.home / NAME).read_text())["key_id"]):
        cp = Checkpoint(1, "0" * 64, "2026-01-01T00:00:00+00:00", kid)
        body = {"seq": 1, "row_hash": cp.row_hash, "at": cp.at, "key_id": kid, "signer": "pkcs11",
                "signature": base64.b64encode(signer.sign(_payload(cp))).decode()}
        (paths.home / NAME).write_text(json.dumps(body))
        with open_store(paths, cfg) as store:
            problems = store.verify().problems
        assert any("signed by another key" in p and "refused" in p or "signature is not the device key's" in p
                   for p in problems), problems
    # and provisioning will not quietly re-pin a different key of the same kind (token reset?)
    with pytest.raises(TokenError, match="pinned to pkcs11 key"):
        ensure_checkpoint_key(paths, other)


def test_token_absent_digitize_still_stores_and_the_checkpoint_catches_up(
        token_home: tuple[Paths, Config], hsm: SoftHsm, capsys: pytest.CaptureFixture[str]) -> None:
    paths, cfg = token_home
    pulled = hsm.pull(LABEL)
    with open_store(paths, cfg) as store:
        doc = add(store, 1)  # nothing lost: the document is committed without the token
        assert store.get(doc) is not None
        assert store.checkpointer is not None and "absent" in (store.checkpointer.failure or "")
        report = store.verify()
    assert report.ok, report.problems
    assert any("not covered by a signed checkpoint yet" in n for n in report.notes), report.notes
    assert main(["audit", "checkpoint"]) == 12
    err = capsys.readouterr().err
    assert "device token that signs audit checkpoints is absent" in err and "sohoa audit checkpoint" in err
    hsm.reinsert(pulled)
    assert main(["audit", "checkpoint"]) == 0
    assert "signed by pkcs11 key" in capsys.readouterr().out
    with open_store(paths, cfg) as store:
        add(store, 2)
        head = store.audit_head()
        report = store.verify()
    assert report.ok and not any("not covered" in n for n in report.notes), report.notes
    assert json.loads((paths.home / NAME).read_text())["seq"] == head[0]


def test_a_store_opened_without_the_token_signer_never_signs_with_the_key_file(
        token_home: tuple[Paths, Config]) -> None:
    from provisioning.identity import create_identity
    from service.store import Store

    paths, cfg = token_home
    create_identity(paths, "dev-box-0001", "70", "UBND xã Test")  # a key file exists too
    with Store.open(paths) as store:  # default config: the file fallback, which is not the pinned key
        add(store, 1)
        assert "not the pinned pkcs11 key" in (store.checkpointer.failure or "")  # type: ignore[union-attr]
    with open_store(paths, cfg) as store:
        report = store.verify()
    assert report.ok, report.problems


def test_switching_from_the_key_file_to_the_token_re_pins_audited(sohoa_home: Path, hsm: SoftHsm,
                                                                    tmp_path: Path) -> None:
    from provisioning.identity import create_identity

    paths = get_paths(sohoa_home)
    create_identity(paths, "dev-box-0001", "70", "UBND xã Test")
    file_cfg = Config()
    with open_store(paths, file_cfg) as store:
        add(store, 1)
    assert ensure_checkpoint_key(paths, file_cfg).signer == "file"
    pin_file = tmp_path / "p.pin"
    pin_file.write_text(DEV_PIN)
    token_cfg = parse_config(_config_text(hsm, pin_file))
    done = ensure_checkpoint_key(paths, token_cfg)
    assert done.pinned and done.signer == "pkcs11"
    with open_store(paths, token_cfg) as store:
        assert [e.action for e in store.audit_entries("store:checkpoint-key")] == ["checkpoint_key_pinned"]
        report = store.verify()
    assert report.ok and any("pkcs11 key" in n for n in report.notes), (report.problems, report.notes)


@pytest.mark.parametrize("text, needle", [
    ("store:\n  checkpoint_signer:\n    type: hsm\n", "checkpoint_signer"),
    ("store:\n  checkpoint_signer:\n    type: pkcs11\n    token_lable: X\n", "token_lable"),
    ("store:\n  checkpoint_signer:\n    type: file\n    key_label: x\n", "key_label"),
])
def test_the_signer_config_is_a_strict_discriminated_union(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_config(text, "c.yaml")


def test_a_missing_pin_file_is_a_clear_config_error(sohoa_home: Path, hsm: SoftHsm, tmp_path: Path) -> None:
    paths = get_paths(sohoa_home)
    cfg = parse_config(_config_text(hsm, tmp_path / "nowhere.pin"))
    with pytest.raises(ConfigError, match="PIN file") as info:
        ensure_checkpoint_key(paths, cfg)
    assert info.value.exit_code == 6 and "pin_file" in (info.value.remedy or "")


def _provision(*args: str) -> dict[str, dict[str, object]]:
    """``sohoa provision --json`` in a child (the worktree's code), its steps by name."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "service", "provision", "--json", "--no-selftest", *args],
                          cwd=repo, capture_output=True, text=True, timeout=300)
    assert done.stdout, done.stderr
    return {str(s["step"]): s for s in json.loads(done.stdout)["steps"]}


def test_provision_generates_the_key_on_the_token_and_pins_it(sohoa_home: Path, hsm: SoftHsm,
                                                              tmp_path: Path) -> None:
    pin_file = tmp_path / "p.pin"
    pin_file.write_text(DEV_PIN)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(_config_text(hsm, pin_file), encoding="utf-8")
    dropin = str(tmp_path / "tsa.conf")
    step = _provision("--config", str(cfg), "--systemd-dropin", dropin)["audit checkpoint key"]
    assert step["ok"] and "pkcs11 key" in str(step["detail"]) and "pinned now" in str(step["detail"]), step
    assert json.loads((sohoa_home / PIN_NAME).read_text())["signer"] == "pkcs11"
    hsm.pull(LABEL)
    step = _provision("--systemd-dropin", dropin)["audit checkpoint key"]
    assert not step["ok"] and "absent" in str(step["detail"]), step
