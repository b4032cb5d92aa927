"""Token status for ``sohoa token status`` and the kiosk: inserted? PIN state? (no secrets)."""

from __future__ import annotations

from typing import Any

from firmware import token as drv
from service.domain.errors import SohoaError
from service.paths import Paths
from service.signing.config import SigningConfig
from service.signing.pool import profile_for
from service.signing.signer import SignatureRole


def token_status(config: SigningConfig, paths: Paths) -> list[dict[str, Any]]:
    """One row per role: selection, presence and the PIN flags the token reports."""
    from service.signing.pkcs11_signer import Pkcs11Signer, map_driver_error

    rows: list[dict[str, Any]] = []
    for role in SignatureRole:
        row: dict[str, Any] = {"role": role.value}
        try:
            signer = Pkcs11Signer(profile_for(config, role), paths, role=role.value)
            row["token"] = signer.selector.describe()
            with signer.session as session:
                info = session.info()
                row.update(present=True, serial=info.serial, pin_locked=info.pin_locked,
                           pin_count_low=bool(info.flags & drv.CKF_USER_PIN_COUNT_LOW),
                           pin_final_try=bool(info.flags & drv.CKF_USER_PIN_FINAL_TRY),
                           pinpad=info.protected_auth)
        except drv.TokenDriverError as exc:
            err = map_driver_error(exc, role.value)
            row.update(present=False, problem=err.message)
        except SohoaError as exc:
            row.update(present=False, problem=exc.message)
        rows.append(row)
    return rows
