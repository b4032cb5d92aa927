"""What the gateway does with each uplink message (no MQTT here: input bytes in, answers out).

Every refusal is logged with a short reason code and recorded in ``gw_event``; nothing a
device sends can crash the handler, and good data already held is never dropped. A message
counts only from an enrolled device identity on its own province's topics (``gw_registry``,
the same registry the broker enforces).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from service.domain.errors import SohoaError
from service.sync import protocol as p

from .db import Enrolment, GatewayDb, TransferRow
from .filestore import GatewayFileStore
from .policy import Limits, telemetry_values
from .reuse import Resolver, ReuseDesk
from .verify import SignatureChecker

log = logging.getLogger("sohoa.gateway")


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message the gateway must publish."""

    topic: str
    payload: bytes
    correlation: bytes | None = None


class Rejected(Exception):
    """A message is refused; ``reason`` is a log-safe code, ``ack`` is sent when the version is known."""

    def __init__(self, reason: str, ack: p.Ack | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.ack = ack


class Handler:
    """Processes uplink messages for one gateway replica."""

    def __init__(self, db: GatewayDb, files: GatewayFileStore, checker: SignatureChecker, *, max_message_bytes: int,
                 resolvers: list[Resolver] | None = None, agency: str = "Kho dữ liệu số hóa tỉnh",
                 limits: Limits | None = None) -> None:
        self.db, self.files, self.checker = db, files, checker
        self.max_message_bytes = max_message_bytes
        self.limits = limits or Limits()
        self.reuse = ReuseDesk(db, resolvers or [], self.limits, agency)
        self.counts: dict[str, int] = {}
        self._enrolled: dict[str, tuple[float, Enrolment | None]] = {}

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def _enrolment(self, device: str) -> Enrolment | None:
        """The registry row of a device, cached for 10 s (a revocation bites within that)."""
        now = time.monotonic()
        hit = self._enrolled.get(device)
        if hit is not None and now - hit[0] < 10.0:
            return hit[1]
        row = self.db.enrolment(device)
        if len(self._enrolled) > 50_000:
            self._enrolled.clear()
        self._enrolled[device] = (now, row)
        return row

    def handle(self, topic: str, payload: bytes, user: list[tuple[str, str]] | None,
               correlation: bytes | None) -> list[Outbound]:
        """Process one message; returns what to publish. Never raises for bad input (only for store outages)."""
        try:
            info = p.parse_topic(topic)
        except p.ProtocolError as exc:
            self._refuse("?", "?", exc.reason)
            return []
        if info.direction != "up":
            self._refuse(info.device, info.kind.value, "not-uplink")
            return []
        try:
            return self._dispatch(info, payload, user, correlation)
        except p.ProtocolError as exc:
            self._refuse(info.device, info.kind.value, exc.reason)
            return []
        except Rejected as exc:
            self._refuse(info.device, info.kind.value, exc.reason, exc.ack)
            if exc.ack is None:
                return []
            return [Outbound(p.topic(info.province, info.device, p.Kind.ACK), exc.ack.encode(), correlation)]
        except (psycopg.OperationalError, psycopg.InterfaceError, SohoaError):
            raise  # database or file store down: the message stays unacknowledged and comes again
        except (psycopg.Error, ValueError, TypeError, KeyError, UnicodeError, OverflowError) as exc:
            self._refuse(info.device, info.kind.value, f"unprocessable:{exc.__class__.__name__}")
            return []

    def _dispatch(self, info: p.TopicInfo, payload: bytes, user: list[tuple[str, str]] | None,
                  correlation: bytes | None) -> list[Outbound]:
        enrolment = self._enrolment(info.device)
        if enrolment is None or enrolment.revoked:
            raise Rejected("device-not-enrolled")
        if enrolment.province != info.province:
            raise Rejected("province-mismatch")
        if len(payload) > self.max_message_bytes:
            raise Rejected("oversized")
        if info.kind is p.Kind.MANIFEST:
            return self._manifest(info, payload, correlation)
        if info.kind is p.Kind.CHUNK:
            return self._chunk(info, payload, user)
        if info.kind is p.Kind.REUSE_REQ:
            answer, outcome = self.reuse.answer(info, enrolment, p.ReuseQuery.decode(payload))
            self._count(f"reuse:{outcome}")
            return [Outbound(p.topic(info.province, info.device, p.Kind.REUSE_RESP), answer.encode(), correlation)]
        data = p.load_json(payload)
        if info.kind is p.Kind.STATUS:
            state = data.get("TrangThai")
            if state not in ("online", "offline"):
                raise p.ProtocolError("bad-field", "TrangThai")
            self.db.device_seen(info.device, info.province, state=state)
        elif info.kind is p.Kind.TELEMETRY:
            values = telemetry_values(data, info.device)
            self.db.device_seen(info.device, info.province, telemetry=values)
            seq, head = values.get("audit_seq"), values.get("audit_hash")
            if isinstance(seq, int) and isinstance(head, str):
                alert = self.db.audit_head_seen(info.device, seq, head)
                if alert is not None:
                    self.db.event(alert, device=info.device, reason=f"audit head {seq} after a higher one")
                    log.warning("device %s reported a %s", info.device, alert)
        self._count(info.kind.value)
        return []

    def expire(self) -> int:
        """Drop incomplete transfers idle past ``transfer_ttl_s`` (recorded as ``expired``); returns how many."""
        gone = self.db.expire_transfers(self.limits.transfer_ttl_s)
        for device, doc, sha in gone:
            self.db.event("expired", device=device, doc=doc, sha=sha, reason="transfer-ttl")
        if gone:
            log.info("expired %d incomplete transfers", len(gone))
        return len(gone)

    def _refuse(self, device: str, kind: str, reason: str, ack: p.Ack | None = None) -> None:
        self._count(f"rejected:{reason}")
        log.warning("rejected %s from %s: %s", kind, device, reason)
        self.db.event("rejected", device=device if device != "?" else None,
                      doc=ack.document_id if ack else None, sha=ack.sha256 if ack else None, reason=f"{kind}:{reason}")

    # -- manifest ----------------------------------------------------------------------
    def _manifest(self, info: p.TopicInfo, payload: bytes, corr: bytes | None) -> list[Outbound]:
        m = p.Manifest.decode(payload)
        if m.device_id != info.device or m.province != info.province:
            raise Rejected("identity-mismatch", p.Ack(m.document_id, m.sha256, p.AckStatus.REJECTED,
                                                      reason="identity-mismatch"))
        for reason, over in (("too-large", m.file.size > self.limits.max_file_bytes),
                             ("too-many-chunks", m.file.chunks > self.limits.max_chunks)):
            if over:
                raise Rejected(reason, p.Ack(m.document_id, m.sha256, p.AckStatus.REJECTED, reason=reason))
        t = self.db.get_transfer(m.document_id, m.sha256)
        if t is None:
            count, declared = self.db.open_transfers(info.device)
            if count >= self.limits.max_open_transfers or declared + m.file.size > self.limits.max_open_bytes:
                raise Rejected("quota-exceeded", p.Ack(m.document_id, m.sha256, p.AckStatus.LATER,
                                                       reason="quota-exceeded"))
            if self.db.add_transfer(m):
                self.db.event("manifest", device=info.device, doc=m.document_id, sha=m.sha256)
            t = self.db.get_transfer(m.document_id, m.sha256)
            assert t is not None
        if t.device_id != info.device:
            reason = "document-owned-by-other-device"
            raise Rejected(reason, p.Ack(m.document_id, m.sha256, p.AckStatus.REJECTED, reason=reason))
        if t.state == "receiving":
            self.db.touch(m.document_id, m.sha256)
        self._count("manifest")
        if t.state == "receiving" and (t.chunk_size != m.file.chunk_size or t.size != m.file.size):
            self.db.reset_transfer(m)
            t = self.db.get_transfer(m.document_id, m.sha256)
            assert t is not None
        return self._answer(t, info, corr)

    def _answer(self, t: TransferRow, info: p.TopicInfo, corr: bytes | None) -> list[Outbound]:
        ack_topic = p.topic(info.province, info.device, p.Kind.ACK)
        if t.state == "stored":
            ack = p.Ack(t.document_id, t.sha256, p.AckStatus.STORED, receipt=self.db.receipt(t.document_id, t.sha256))
            return [Outbound(ack_topic, ack.encode(), corr)]
        if t.state == "rejected":
            ack = p.Ack(t.document_id, t.sha256, p.AckStatus.REJECTED, reason=t.reason)
            return [Outbound(ack_topic, ack.encode(), corr)]
        have = self.db.have_chunks(t.document_id, t.sha256)
        need = [s for s in range(t.chunk_count) if s not in have]
        if not need:
            return self._assemble(t.document_id, t.sha256, info, corr)
        cap = self.limits.max_need
        ack = p.Ack(t.document_id, t.sha256, p.AckStatus.NEED, need=tuple(need[:cap]), more=max(0, len(need) - cap))
        return [Outbound(ack_topic, ack.encode(), corr)]

    # -- chunk -------------------------------------------------------------------------
    def _chunk(self, info: p.TopicInfo, payload: bytes, user: list[tuple[str, str]] | None) -> list[Outbound]:
        hdr = p.ChunkHeader.from_properties(user)
        if len(payload) > p.MAX_CHUNK_BYTES:
            raise Rejected("oversized")
        t = self.db.get_transfer(hdr.document_id, hdr.file_sha256)
        if t is None:
            raise Rejected("chunk-without-manifest")
        if t.device_id != info.device:
            raise Rejected("chunk-from-other-device")
        if t.state != "receiving":
            self._count("replay")
            return []
        if hdr.seq >= t.chunk_count:
            raise Rejected("bad-seq")
        if hashlib.sha256(payload).hexdigest() != hdr.chunk_sha256:
            raise Rejected("chunk-hash-mismatch")
        last = t.chunk_count - 1
        expected = t.chunk_size if hdr.seq < last else t.size - last * t.chunk_size
        if len(payload) != expected:
            raise Rejected("chunk-length")
        if not self.db.add_chunk(t.document_id, t.sha256, hdr.seq, payload):
            self._count("replay")
            return []
        self._count("chunk")
        self.db.touch(t.document_id, t.sha256)
        if self.db.chunk_total(t.document_id, t.sha256) < t.chunk_count:
            return []
        return self._assemble(t.document_id, t.sha256, info, None)

    def _assemble(self, doc: str, sha: str, info: p.TopicInfo, corr: bytes | None) -> list[Outbound]:
        """Join, verify and store a complete file (serialised between replicas by a row lock)."""
        ack_topic = p.topic(info.province, info.device, p.Kind.ACK)
        with self.db.conn.transaction():
            t = self.db.get_transfer(doc, sha, lock=True)
            if t is None:
                return []
            if t.state != "receiving":
                return self._answer(t, info, corr)
            parts = self.db.chunks(doc, sha)
            if len(parts) != t.chunk_count:
                return []
            data = b"".join(parts)
            reason = None
            signature = "not-checked"
            if len(data) != t.size or hashlib.sha256(data).hexdigest() != sha:
                reason = "file-hash-mismatch"
            else:
                result = self.checker.check(data)
                signature, reason = result.summary, result.reason
            if reason is None:
                try:
                    self.files.put(data, sha)
                except SohoaError as exc:
                    log.error("file store failed for %s: %s", doc, exc.message)
                    raise
                self.db.finish(t, stored=True, signature=signature, reason=None)
                self.db.event("stored", device=info.device, doc=doc, sha=sha)
                self._count("stored")
                log.info("stored document %s (%d bytes, signature %s)", doc, t.size, signature)
                ack = p.Ack(doc, sha, p.AckStatus.STORED, receipt=self.db.receipt(doc, sha))
            else:
                self.db.finish(t, stored=False, signature=signature, reason=reason)
                self.db.event("rejected", device=info.device, doc=doc, sha=sha, reason=f"file:{reason}")
                self._count(f"rejected:{reason}")
                log.warning("rejected document %s from %s: %s", doc, info.device, reason)
                ack = p.Ack(doc, sha, p.AckStatus.REJECTED, reason=reason)
        return [Outbound(ack_topic, ack.encode(), corr)]


def summary(counts: dict[str, Any]) -> str:
    """One log line of counters."""
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
