"""The kiosk's only door into the service: every view calls this facade, which calls use cases.

Nothing here touches SQLite or a device driver; it composes ``service.usecases`` (the spine's
digitize/store use cases, signing, extraction, and the kiosk_* use cases for drafts, catalogue,
camera, receipt and read models) and keeps the few long-lived objects the web process needs:
the desk camera, the officer's card session and the background job runner.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from kiosk_ui.config import KioskSettings, LocalAccount
from kiosk_ui.jobs import JobRunner, Progress
from kiosk_ui.security import AttemptLimiter, KioskSession
from service.config import Config, load_config
from service.errors import NotFoundError, PermissionDenied, SohoaError, ValidationError
from service.paths import Paths
from service.usecases import kiosk_desk, kiosk_devices, kiosk_flow, kiosk_records, kiosk_tech, reuse
from service.usecases.kiosk_capture import DeskScanner
from service.usecases.kiosk_desk import DeskCamera, Draft, DraftStore, ProcedureCatalogue

log = logging.getLogger("sohoa.kiosk")

DEV_ACCOUNTS = (("kythuat", "Kỹ thuật viên (dev)", "technician", "kythuat-dev"),
                ("giamsat", "Giám sát viên (dev)", "supervisor", "giamsat-dev"),
                ("canbo", "Cán bộ một cửa (dev)", "officer", "canbo-dev"))
VN_TZ = dt.timezone(dt.timedelta(hours=7))
MAX_FAILURES = 5
LOCKOUT_S = 60


@dataclass(frozen=True, slots=True)
class OfficerIdentity:
    """Who opened the card: the certificate's name and a stable, non-personal user id."""

    name: str
    user_id: str


def dev_accounts() -> list[LocalAccount]:
    """The documented development accounts (``sohoa kiosk`` prints them)."""
    return [LocalAccount(username=u, display_name=n, role=r, password_hash=generate_password_hash(p))  # type: ignore[arg-type]
            for u, n, r, p in DEV_ACCOUNTS]


class Backend:
    """Use-case facade bound to one service home and the kiosk settings."""

    def __init__(self, paths: Paths, settings: KioskSettings, config: Config | None = None) -> None:
        """Load the service configuration and prepare drafts, camera and jobs."""
        self.paths = paths
        self.settings = settings
        self.config = config or load_config(paths.config)
        self.kiosk_home = paths.home / "kiosk"
        self.drafts = DraftStore(self.kiosk_home / "drafts", self.config.capture)
        self.camera = DeskCamera(self.config.devices.camera, self.kiosk_home / "camera-samples")
        self.scanner = DeskScanner(self.config.devices.scanner, self.kiosk_home / "camera-samples")
        self.jobs = JobRunner()
        dev = settings.dev_accounts
        self.dev_accounts_enabled = dev if dev is not None else (paths.tokens / "dev-token.json").exists()
        accounts = list(settings.local_accounts) + (dev_accounts() if self.dev_accounts_enabled else [])
        self._accounts = {a.username: a for a in accounts}
        self._password_limit = AttemptLimiter(max_failures=MAX_FAILURES, lock_s=LOCKOUT_S, backoff_s=0.0)
        self._dummy_hash = generate_password_hash("not-a-password")
        self._card_lock = threading.Lock()
        self._card_checked = 0.0
        self._card_seen = False
        self._card_session = False
        self.devices = kiosk_devices.DeviceHub(self.config.devices, activity=self.activity)
        self.devices.start()

    # ------------------------------------------------------------------ audit and accounts
    def audit(self, actor: str, action: str, target: str, detail: Mapping[str, str]) -> None:
        """Append an audit row; a failing audit log is logged (the action already happened)."""
        try:
            kiosk_records.audit(self.paths, actor, f"kiosk.{action}", target, dict(detail))
        except SohoaError as exc:
            log.error("audit append failed: %s", type(exc).__name__)

    def session_expired(self, session: KioskSession) -> None:
        """A session timed out: audit it; a citizen's papers that were never handed in are deleted."""
        self.audit(f"{session.role}:{session.user_id}", "session.expired", "", {})
        self.discard_unsent(session)

    def discard_unsent(self, session: KioskSession) -> None:
        """Delete the papers of a citizen session that were never handed in (nothing is kept)."""
        draft_id = session.data.get("draft")
        if session.role != "citizen" or not draft_id:
            return
        try:
            d = self.drafts.get(draft_id)
            if d.kind == "citizen" and d.state == "open":
                self.drafts.discard(draft_id)
        except SohoaError as exc:
            log.warning("could not discard an expired citizen draft: %s", type(exc).__name__)

    def has_local_accounts(self) -> bool:
        """Whether the password form is shown."""
        return bool(self._accounts)

    def local_login(self, username: str, password: str) -> LocalAccount | None:
        """The account when the password matches (constant work for unknown users).

        After :data:`MAX_FAILURES` wrong passwords in a row a name is refused for
        :data:`LOCKOUT_S` seconds (raises :class:`PermissionDenied` saying so). Each attempt is
        reserved before the hash is checked, so parallel requests never get more guesses.
        """
        name = username.strip().lower()
        account = self._accounts.get(name)
        if account is None:  # same work as a real check; unknown names are not tracked (bounded memory)
            check_password_hash(self._dummy_hash, password)
            return None
        if not self._password_limit.reserve(name).allowed:
            raise PermissionDenied("too many wrong passwords for this account",
                                   remedy=f"wait {LOCKOUT_S} seconds, or sign in with the card")
        try:
            ok = check_password_hash(account.password_hash, password)
        except BaseException:
            self._password_limit.cancelled(name)
            raise
        if ok:
            self._password_limit.succeeded(name)
            return account
        self._password_limit.failed(name)
        return None

    def card_pin_state(self) -> dict[str, bool]:
        """The officer card's PIN flags (locked, final try, count low); empty when it cannot be read."""
        with self._card_lock:
            return kiosk_flow.card_pin_state(paths=self.paths, config=self.config)

    # ------------------------------------------------------------------ catalogue and drafts
    def procedures(self) -> ProcedureCatalogue:
        """The active procedure catalogue (imported file, else the configured or bundled sample)."""
        fallback = self.settings.catalogue_file or Path(str(resources.files("kiosk_ui") / "data/catalogue.sample.json"))
        return kiosk_desk.active_procedures(self.kiosk_home, fallback)

    def reuse_candidates(self, draft: Draft) -> dict[str, list[kiosk_records.OwnedPaper]]:
        """For each component, the owner's stored papers that may be reused (same type first)."""
        papers = kiosk_records.papers_of_owner(self.paths, draft.owner_id)
        out: dict[str, list[kiosk_records.OwnedPaper]] = {}
        for c in draft.components:
            prefix = f"{draft.procedure_code}.{c.code}."
            same = [p for p in papers if p.document_type_code.startswith(prefix)]
            out[c.code] = same + [p for p in papers if p not in same]
        return out

    def reuse_offers(self, draft: Draft, *, offline: bool = False) -> tuple[dict[str, list[reuse.Candidate]], str]:
        """Per component, the owner's papers of its expected document types (own store, then the
        province or its cached answer), and how the province step ended (``reuse.ANSWERED`` ...)."""
        try:
            proc = self.procedures().procedure(draft.procedure_code)
        except NotFoundError:
            proc = None
        wanted: dict[str, tuple[str, ...]] = {}
        for c in draft.components:
            try:
                wanted[c.code] = reuse.expected_types(draft.procedure_code, proc.component(c.code)) if proc \
                    else (f"{draft.procedure_code}.{c.code}.",)
            except NotFoundError:
                wanted[c.code] = (f"{draft.procedure_code}.{c.code}.",)
        union = tuple(dict.fromkeys(t for types in wanted.values() for t in types))
        # the draft's lifecycle dossier, received at the procedure step (the province authorises by it)
        found = reuse.find_reuse(draft.owner_id, union, dossier_id=draft.dossier_code or None,
                                 procedure_code=draft.procedure_code, offline=offline, paths=self.paths,
                                 config=self.config)
        return {code: found.for_types(types) for code, types in wanted.items()}, found.province

    def receive(self, draft: Draft, actor: str) -> str:
        """Receive the draft's dossier (owner and procedure confirmed); returns its code."""
        return kiosk_flow.receive_dossier(self.drafts, draft, actor, paths=self.paths, config=self.config,
                                          now_fn=self.now)

    def discard(self, draft: Draft, actor: str, reason: str = "") -> str | None:
        """Discard an open draft; the dossier it received is withdrawn with the reason (its code returned)."""
        return kiosk_flow.discard_draft(self.drafts, draft.id, actor, paths=self.paths, config=self.config,
                                        reason=reason)

    def reuse_preview(self, draft: Draft, result_code: str, kind: str) -> tuple[bytes, str]:
        """The first page image or PDF of a local paper of this draft's owner."""
        return reuse.open_preview(result_code, kind, owner_id=draft.owner_id, paths=self.paths)

    def set_reuse(self, draft: Draft, chosen: Mapping[str, str],
                  candidates: Mapping[str, Sequence[kiosk_records.OwnedPaper | reuse.Candidate]]) -> None:
        """Mark the components the officer chose to reuse."""
        allowed = {k: [p.result_code for p in v] for k, v in candidates.items()}
        kiosk_desk.set_reuse(self.drafts, draft, chosen, allowed)

    def apply_review(self, draft: Draft, form: Mapping[str, str], actor: str) -> int:
        """Apply and audit the officer's corrections (who, field, old -> new; personal values hashed)."""
        entries = kiosk_desk.apply_review(self.drafts, draft, form, actor, self.config.extract)
        if entries:
            kiosk_records.record_corrections(self.paths, draft.id, entries)
        return len(entries)

    def now(self) -> dt.datetime:
        """Local time of the office (Vietnam, UTC+7)."""
        return dt.datetime.now(VN_TZ)

    # ------------------------------------------------------------------ long steps
    def card_login(self, pin: str) -> OfficerIdentity:
        """Open the officer's card with ``pin``; the certificate names the officer."""
        self.validate_pin_shape(pin)
        with self._card_lock:
            holder = kiosk_flow.card_login(pin, paths=self.paths, config=self.config)
            self._card_checked = 0.0
            self._card_session = True
        return OfficerIdentity(holder.name, holder.user_id)

    def card_present(self) -> bool:
        """Whether the officer's card is still in the reader (checked at most every 3 s).

        While a signing job holds the card the answer is "present": the job reports a removal.
        """
        now = time.monotonic()
        if now - self._card_checked < 3.0:
            return self._card_seen
        if not self._card_lock.acquire(blocking=False):
            return True
        try:
            self._card_seen = kiosk_flow.card_present(paths=self.paths, config=self.config)
            self._card_checked = now
        finally:
            self._card_lock.release()
        return self._card_seen

    def activity(self) -> kiosk_devices.KioskActivity:
        """What the panel LEDs show: a job running, a job failed lately, the officer's card in."""
        failed = bool(self.jobs.failed_at) and time.monotonic() - self.jobs.failed_at < kiosk_devices.ERROR_HOLD_S
        card = False
        if self._card_session:
            try:
                card = self.card_present()
            except SohoaError:
                card = False
        return kiosk_devices.KioskActivity(busy=self.jobs.running(), failed=failed, card=card)

    def card_logout(self) -> None:
        """Close the card session."""
        with self._card_lock:
            kiosk_flow.card_logout()
            self._card_session = False

    def extract(self, draft_id: str, progress: Progress) -> dict[str, str]:
        """OCR + extraction of every captured component, up to the officer review (a background job)."""
        kiosk_flow.extract_draft(self.drafts, draft_id, self.config, progress)
        return {}

    def self_test(self, progress: Progress) -> dict[str, str]:
        """The technician's self-test (a background job)."""
        return kiosk_tech.self_test(self.paths, self.config, self.camera, progress)

    def finalize(self, draft_id: str, pin: str, officer_name: str, user_id: str, progress: Progress) -> dict[str, str]:
        """Digitize, sign and queue the dossier (a background job); the audit names the officer's id."""
        self.validate_pin_shape(pin)
        with self._card_lock:
            d = kiosk_flow.finalize_draft(self.drafts, draft_id, pin, officer_name, f"officer:{user_id}",
                                          paths=self.paths, config=self.config, now_fn=self.now, progress=progress)
        return {"dossier_code": d.dossier_code}

    def validate_pin_shape(self, pin: str) -> None:
        """A PIN is 4-16 digits (checked before the card is asked, so tries are not wasted)."""
        if not pin.isdigit() or not 4 <= len(pin) <= 16:
            raise ValidationError("pin", "must be 4 to 16 digits")

    def review_rows(self, draft: Draft) -> list[kiosk_desk.ReviewRow]:
        """Rows for the review screen (low-confidence marking from the kiosk settings)."""
        return kiosk_desk.review_rows(draft, self.settings.low_confidence)

    def close(self) -> None:
        """Release the camera, the card and the worker (service shutdown)."""
        self.jobs.shutdown()
        self.devices.close()
        self.camera.close()
        with self._card_lock:
            kiosk_flow.release_cards()
