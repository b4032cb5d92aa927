"""The audit checkpoint's signer, chosen by config and injected into the store (which imports no token driver).

``store.checkpoint_signer.type: pkcs11`` → :class:`TokenCheckpointSigner`: a non-exportable EC key
generated on the device's PKCS#11 token (:mod:`firmware.device_key`); ``file`` → the store's own
key-file fallback. :func:`open_store` is how the use cases open the store with the configured
signer; :func:`ensure_checkpoint_key` (``sohoa provision``, the station) makes the key on the token
and pins it; :func:`checkpoint_now` (``sohoa audit checkpoint``) signs a lagging head.

Token absent: a digitization still commits (nothing is lost); the checkpoint lags and the next
write with the token present signs the newest head. ``sohoa audit checkpoint`` says why with exit 12.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.config import Config, load_config
from service.domain.errors import ConfigError, StoreError, TokenError
from service.paths import Paths, get_paths
from service.store import Store
from service.store.checkpoint import CheckpointSigner, FileSigner
from service.store.config import Pkcs11CheckpointSigner

DEV_DEVICE_TOKEN_PIN_FILE = "device-token.pin"
_REMEDY = ("connect the device token (TPM / SoftHSM) and run `sohoa audit checkpoint`; documents are stored "
           "meanwhile and the next checkpoint covers them")


class TokenCheckpointSigner:
    """Signs audit checkpoints with a key that never leaves the device's PKCS#11 token."""

    kind = "pkcs11"

    def __init__(self, cfg: Pkcs11CheckpointSigner, paths: Paths) -> None:
        """Nothing is opened until the first use."""
        self.cfg = cfg
        self.paths = paths
        self._key: Any = None

    def describe(self) -> str:
        """Token label / serial and key label."""
        where = f"token {self.cfg.token_label!r}" if self.cfg.token_label else f"token serial {self.cfg.token_serial}"
        return f"PKCS#11 {where}, key {self.cfg.key_label!r}"

    def _device_key(self) -> Any:
        if self._key is None:
            from firmware.token import TokenSelector, softhsm_module
            from service.signing.device_key import DeviceKey

            module = self.cfg.module or softhsm_module()
            if module is None:
                raise TokenError("the PKCS#11 module of the device token is not installed",
                                 remedy="set store.checkpoint_signer.module, or apt-get install softhsm2")
            conf = self.cfg.softhsm2_conf
            if conf is None and "softhsm" in module:
                conf = self.paths.tokens / "softhsm2.conf"
            pin_file = self.cfg.pin_file or self.paths.tokens / DEV_DEVICE_TOKEN_PIN_FILE
            try:
                pin = pin_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"the device token's PIN file {pin_file} cannot be read ({exc.strerror})",
                                  remedy="set store.checkpoint_signer.pin_file to a file (mode 0600) holding "
                                         "the token's user PIN") from exc
            self._key = DeviceKey(module, TokenSelector(self.cfg.token_label, self.cfg.token_serial),
                                  key_label=self.cfg.key_label, pin=pin,
                                  softhsm2_conf=str(conf) if conf is not None else None)
        return self._key

    def _call(self, what: str, work: Any) -> Any:
        from firmware.token import ModuleLoadError, ObjectMissing, PinLockedOut, PinRejected, TokenDriverError

        try:
            return work(self._device_key())
        except ObjectMissing as exc:
            raise TokenError(f"the device token has no audit checkpoint key ({exc})",
                             remedy="run `sohoa provision` to generate it on the token") from exc
        except (PinRejected, PinLockedOut) as exc:
            raise TokenError(f"the device token refused the stored PIN ({exc})",
                             remedy="check store.checkpoint_signer.pin_file; " + _REMEDY) from exc
        except ModuleLoadError as exc:
            raise TokenError(f"the device token's PKCS#11 module cannot be loaded ({exc})",
                             remedy="check store.checkpoint_signer.module") from exc
        except TokenDriverError as exc:
            raise TokenError(f"the device token that signs audit checkpoints is absent ({self.describe()}): "
                             f"{what} failed ({exc})", remedy=_REMEDY) from exc

    def create(self) -> bytes:
        """Generate the key pair on the token unless it is there; returns the public key (DER)."""
        return bytes(self._call("key generation", lambda k: k.create()))

    def public_key_der(self) -> bytes:
        """The token key's public key (DER)."""
        return bytes(self._call("reading the public key", lambda k: k.public_key_der()))

    def sign(self, data: bytes) -> bytes:
        """A DER ECDSA-SHA256 signature of ``data`` made on the token."""
        import hashlib

        return bytes(self._call("signing", lambda k: k.sign_digest(hashlib.sha256(data).digest())))

    def protection(self) -> dict[str, bool]:
        """The private key's protection flags (sensitive, extractable, …) as the token reports them."""
        return dict(self._call("reading the key's flags", lambda k: k.protection()))


@functools.lru_cache(maxsize=8)
def _token_signer(cfg_json: str, home: str) -> TokenCheckpointSigner:
    """One token signer per (config, home) and process: its token session is kept between writes."""
    return TokenCheckpointSigner(Pkcs11CheckpointSigner.model_validate_json(cfg_json), Paths(Path(home)))


def checkpoint_signer(config: Config, paths: Paths) -> CheckpointSigner:
    """The signer ``store.checkpoint_signer`` names (nothing is opened yet)."""
    chosen = config.store.checkpoint_signer
    if isinstance(chosen, Pkcs11CheckpointSigner):
        return _token_signer(chosen.model_dump_json(), str(paths.home))
    return FileSigner(paths.pki)


def open_store(paths: Paths, config: Config) -> Store:
    """The store of ``paths`` with the configured checkpoint signer injected."""
    return Store.open(paths, config.store, signer=checkpoint_signer(config, paths))


@dataclass(frozen=True, slots=True)
class CheckpointKey:
    """What :func:`ensure_checkpoint_key` did."""

    signer: str
    label: str
    pinned: bool  # a new pin was written (first provisioning, or the signer type changed)


def ensure_checkpoint_key(paths: Paths, config: Config, *, actor: str = "provision") -> CheckpointKey:
    """Make sure the configured signer's key exists (on the token: generated there) and is the pinned one.

    A first run pins the key; a change of signer type (file → pkcs11) re-pins, audited. A pinned key
    of the same type that differs from the token's (token replaced or reset) is refused: that is for
    a technician to judge, not to paper over.
    """
    signer = checkpoint_signer(config, paths)
    if isinstance(signer, TokenCheckpointSigner):
        signer.create()
    with open_store(paths, config) as store:
        assert store.checkpointer is not None
        pin = store.checkpointer.pin()
        from service.store.checkpoint import key_id_of

        der = signer.public_key_der()
        if pin is not None and pin.key_id == key_id_of(der):
            store.sign_checkpoint()
            return CheckpointKey(signer.kind, pin.label(), False)
        if pin is not None and pin.signer == signer.kind and store.checkpointer.pin_path.exists():
            raise TokenError(f"the audit checkpoints are pinned to {pin.label()}, not to the key of "
                             f"{signer.describe()} (token replaced or reset?)",
                             remedy=f"check the token; to start a new key deliberately, move "
                                    f"{store.checkpointer.pin_path} aside and run `sohoa provision` again")
        label = store.pin_checkpoint_signer(signer, actor=actor)
        return CheckpointKey(signer.kind, label, True)


def checkpoint_now(paths: Paths | None = None) -> tuple[int, str]:
    """``sohoa audit checkpoint``: sign the current head; a typed error (exit 12 for the token) when it cannot."""
    p = paths or get_paths()
    cfg = load_config(p.config)
    signer = checkpoint_signer(cfg, p)
    signer.public_key_der()  # the token's own typed error (absent, PIN) before anything else
    with open_store(p, cfg) as store:
        seq, why = store.sign_checkpoint()
        assert store.checkpointer is not None
        pin = store.checkpointer.pin()
    if why is not None:
        raise StoreError(f"the audit checkpoint was not signed: {why}", remedy="run `sohoa provision`")
    return seq, pin.label() if pin is not None else signer.describe()
