"""The device sync worker: drains the outbox to the province gateway over MQTT 5.

Per round it takes up to ``window`` due outbox rows, publishes their manifests first
(metadata is real-time, TT 01/2023 Art. 25), then for each row sends the chunks the
gateway says it still needs, then waits for the application ack. Only a ``stored`` ack
(document id + SHA-256) marks a row delivered; a PUBACK never does.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt

from service.domain.errors import SohoaError, StoreError, SyncError
from service.store.sync_state import SyncProgress, TransferProgress
from service.sync import protocol as p
from service.sync.config import SyncConfig
from service.sync.link import LinkDown, MqttLink, TlsFiles, Will, publish_properties
from service.sync.pacing import Backoff, TokenBucket
from service.sync.source import OutboxSource, PendingUpload

log = logging.getLogger("sohoa.sync.worker")
CHUNK_OVERHEAD = 200  # bytes of MQTT header + properties per chunk, for the bandwidth cap
MESSAGE_EXPIRY_S = 7 * 86400
ROUND_BEAT_S = 900.0  # one upload round (a large file on a capped link) may take this long
BEAT_GRACE_S = 60.0
ANSWERS = frozenset({p.AckStatus.NEED, p.AckStatus.STORED, p.AckStatus.REJECTED, p.AckStatus.LATER})


@dataclass
class Transfer:
    """One outbox row in the current round."""

    item: PendingUpload
    manifest: p.Manifest
    path: Path
    progress: TransferProgress
    correlation: bytes = field(default_factory=lambda: os.urandom(8))

    @property
    def key(self) -> tuple[str, str]:
        """(document id, SHA-256)."""
        return (self.item.document_id, self.item.pdf_sha256)


@dataclass
class WorkerStats:
    """Counters of one worker run (no personal data)."""

    delivered: int = 0
    rejected: int = 0
    retried: int = 0
    chunks: int = 0
    payload_bytes: int = 0
    link_failures: int = 0
    rounds: int = 0


def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, streamed."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


class SyncWorker:
    """Drains an :class:`OutboxSource` to the gateway; safe to kill at any point and restart."""

    def __init__(self, cfg: SyncConfig, *, device_id: str, province: str, source: OutboxSource,
                 progress: SyncProgress, tls: TlsFiles | None) -> None:
        self.cfg, self.device_id, self.province = cfg, device_id, province
        self.source, self.progress, self.tls = source, progress, tls
        self.stats = WorkerStats()
        burst = max(cfg.bandwidth_bytes_per_s, cfg.chunk_size + CHUNK_OVERHEAD)
        self._bucket = TokenBucket(cfg.bandwidth_bytes_per_s, burst=burst)
        self._backoff = Backoff(cfg.backoff_initial_s, cfg.backoff_max_s, cfg.backoff_jitter)
        self._cv = threading.Condition()
        self._answers: dict[tuple[str, str], list[tuple[p.Ack, bytes | None]]] = {}
        self._reuse: dict[bytes, p.ReuseAnswer] = {}
        self._asked: set[bytes] = set()  # correlations of look-ups still waiting (others are dropped)
        self._link: MqttLink | None = None  # the link of :meth:`run`, for look-ups from other threads
        self._last_telemetry = 0.0
        self.stop = threading.Event()
        self.heartbeat: Callable[[float], None] | None = None  # told the Unix time of the next beat

    def _beat(self, within_s: float) -> None:
        """Tell the supervisor's health check when the loop will beat again at the latest."""
        if self.heartbeat is not None:
            self.heartbeat(time.time() + within_s)

    # -- incoming ----------------------------------------------------------------------
    def _on_message(self, msg: mqtt.MQTTMessage) -> None:
        corr = getattr(msg.properties, "CorrelationData", None) if msg.properties else None
        try:
            info = p.parse_topic(msg.topic)
            if info.kind is p.Kind.ACK:
                ack = p.Ack.decode(bytes(msg.payload))
                with self._cv:
                    self._answers.setdefault((ack.document_id, ack.sha256), []).append((ack, corr))
                    self._cv.notify_all()
            elif info.kind is p.Kind.REUSE_RESP and corr is not None:
                answer = p.ReuseAnswer.decode(bytes(msg.payload))
                with self._cv:
                    if bytes(corr) not in self._asked:
                        return  # a late answer to a look-up that gave up: not kept
                    self._reuse[bytes(corr)] = answer
                    self._cv.notify_all()
        except p.ProtocolError as exc:
            log.warning("ignored a downlink message: %s", exc.reason)

    def _take(self, key: tuple[str, str], want: frozenset[p.AckStatus] | set[p.AckStatus], corr: bytes | None,
              deadline: float) -> p.Ack | None:
        """Answer about ``key`` with one of ``want`` by the monotonic ``deadline`` (a ``need`` must carry ``corr``).

        Answers are buffered as they arrive, so a shared deadline for a whole phase only bites
        when an answer is really missing.
        """
        with self._cv:
            while not self.stop.is_set():
                queue = self._answers.get(key, [])
                for i, (ack, acorr) in enumerate(queue):
                    final = ack.status is not p.AckStatus.NEED
                    if ack.status in want and (final or corr is None or acorr == corr):
                        del queue[i]
                        return ack
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cv.wait(min(left, 0.5))
        return None

    def sweep(self) -> None:
        """Apply final acks that arrived for rows outside the current wait (late or repeated, or queued
        in the session and received by a direct look-up's link)."""
        with self._cv:
            found = [(k, a) for k, lst in self._answers.items() for a, _ in lst if a.status is p.AckStatus.STORED]
            self._answers.clear()
        for (doc, sha), ack in found:
            self._delivered(doc, sha, ack.receipt)

    # -- outcomes ----------------------------------------------------------------------
    def _delivered(self, doc: str, sha: str, receipt: str | None) -> None:
        self.progress.delivered(doc, sha, receipt)
        if self.source.mark_delivered(doc, sha):
            self.stats.delivered += 1
            self.progress.bump("delivered")

    def _retry(self, t: PendingUpload, reason: str) -> None:
        delay = self._backoff.delay_for(t.attempts + 1)
        self.source.mark_retry(t, reason, time.time() + delay)
        self.stats.retried += 1

    # -- one round ---------------------------------------------------------------------
    def _prepare(self, item: PendingUpload) -> Transfer | None:
        if self.progress.is_delivered(item.document_id, item.pdf_sha256):
            self._delivered(item.document_id, item.pdf_sha256, None)
            return None
        try:
            payload = self.source.load(item)
            sha, size = file_sha256(payload.file_path)
        except (SohoaError, OSError) as exc:
            log.error("outbox row %d cannot be loaded: %s", item.outbox_id, exc.__class__.__name__)
            self.source.mark_retry(item, f"local file unreadable ({exc.__class__.__name__})", time.time() + 3600)
            return None
        if sha != item.pdf_sha256:
            self.source.mark_failed(item, "local file does not match the outbox SHA-256")
            log.error("outbox row %d: local file hash mismatch", item.outbox_id)
            return None
        old = self.progress.get(item.outbox_id)
        chunk_size = old.chunk_size if old and old.pdf_sha256 == sha else self.cfg.chunk_size
        ref = p.FileRef(payload.file_name, "application/pdf", size, sha, chunk_size)
        manifest = p.Manifest(document_id=item.document_id, device_id=self.device_id, province=self.province,
                              name=payload.name, file=ref, created=payload.created, result_code=payload.result_code,
                              number_symbol=payload.number_symbol, procedure_code=payload.procedure_code,
                              dossier_code=payload.dossier_code, kind=payload.kind, metadata=payload.metadata)
        self.source.mark_progress(item)
        prog = self.progress.begin(item.outbox_id, item.document_id, sha, chunk_size, ref.chunks)
        return Transfer(item, manifest, payload.file_path, prog)

    def _send_chunks(self, link: MqttLink, t: Transfer, need: tuple[int, ...]) -> None:
        ref = t.manifest.file
        chunk_topic = p.topic(self.province, self.device_id, p.Kind.CHUNK)
        inflight: deque[tuple[int, mqtt.MQTTMessageInfo]] = deque()
        with t.path.open("rb") as fh:
            for seq in sorted({n for n in need if 0 <= n < ref.chunks}):
                if self.stop.is_set():
                    raise LinkDown("worker stopping")
                fh.seek(seq * ref.chunk_size)
                data = fh.read(ref.expected_length(seq))
                header = p.ChunkHeader(t.item.document_id, ref.sha256, seq, p.sha256_hex(data))
                self._bucket.consume(len(data) + CHUNK_OVERHEAD, self.stop)
                props = publish_properties(content_type=p.CT_CHUNK, user=header.to_properties(),
                                           expiry_s=MESSAGE_EXPIRY_S)
                inflight.append((seq, link.publish(chunk_topic, data, properties=props)))
                self.stats.chunks += 1
                self.stats.payload_bytes += len(data)
                while len(inflight) >= self.cfg.max_inflight:
                    done_seq, info = inflight.popleft()
                    link.wait_published(info, self.cfg.response_timeout_s)
                    self.progress.chunk_sent(t.item.outbox_id, done_seq)
        while inflight:
            done_seq, info = inflight.popleft()
            link.wait_published(info, self.cfg.response_timeout_s)
            self.progress.chunk_sent(t.item.outbox_id, done_seq)

    def run_round(self, link: MqttLink) -> int:
        """One round over up to ``window`` due rows; returns how many rows it looked at."""
        items = self.source.pending(self.cfg.window, time.time())
        if not items:
            self.sweep()
            return 0
        self.stats.rounds += 1
        transfers = [t for t in (self._prepare(i) for i in items) if t is not None]
        open_rows = {t.item.outbox_id: t for t in transfers}
        try:
            mtopic = p.topic(self.province, self.device_id, p.Kind.MANIFEST)
            reply = p.topic(self.province, self.device_id, p.Kind.ACK)
            infos = [(t, link.publish(mtopic, t.manifest.encode(), properties=publish_properties(
                content_type=p.CT_JSON, correlation=t.correlation, response_topic=reply,
                expiry_s=MESSAGE_EXPIRY_S))) for t in transfers]
            for t, info in infos:
                link.wait_published(info, self.cfg.response_timeout_s)
                self.progress.manifest_sent(t.item.outbox_id)
            self.stats.payload_bytes += sum(len(t.manifest.encode()) for t in transfers)
            waiting: list[Transfer] = []
            need_deadline = time.monotonic() + self.cfg.response_timeout_s
            for t in transfers:
                ans = self._take(t.key, ANSWERS, t.correlation, need_deadline)
                while ans is not None and ans.status is p.AckStatus.NEED:
                    self._send_chunks(link, t, ans.need)
                    if not ans.more:
                        break
                    ans = self._ask_again(link, t)  # the gateway capped its list: ask for the rest
                if ans is None or ans.status is not p.AckStatus.NEED:
                    self._settle(t, ans, "gateway did not answer the manifest")
                    open_rows.pop(t.item.outbox_id, None)
                    continue
                waiting.append(t)
            ack_deadline = time.monotonic() + self.cfg.response_timeout_s
            for t in waiting:
                ans = self._take(t.key, {p.AckStatus.STORED, p.AckStatus.REJECTED, p.AckStatus.LATER}, None,
                                 ack_deadline)
                self._settle(t, ans, "no application ack from the gateway")
                open_rows.pop(t.item.outbox_id, None)
        except LinkDown:
            for t in open_rows.values():
                self._retry(t.item, "link lost during transfer")
            raise
        self.sweep()
        self._telemetry(link)
        return len(items)

    def _ask_again(self, link: MqttLink, t: Transfer) -> p.Ack | None:
        """Re-publish the manifest (new correlation) and wait for the next answer."""
        t.correlation = os.urandom(8)
        info = link.publish(p.topic(self.province, self.device_id, p.Kind.MANIFEST), t.manifest.encode(),
                            properties=publish_properties(content_type=p.CT_JSON, correlation=t.correlation,
                                                          response_topic=p.topic(self.province, self.device_id,
                                                                                 p.Kind.ACK),
                                                          expiry_s=MESSAGE_EXPIRY_S))
        link.wait_published(info, self.cfg.response_timeout_s)
        return self._take(t.key, ANSWERS, t.correlation, time.monotonic() + self.cfg.response_timeout_s)

    def _settle(self, t: Transfer, ans: p.Ack | None, timeout_reason: str) -> None:
        if ans is None:
            self._retry(t.item, timeout_reason)
        elif ans.status is p.AckStatus.LATER:
            self._retry(t.item, f"gateway asked to wait: {ans.reason or 'busy'}")
        elif ans.status is p.AckStatus.STORED:
            self._delivered(t.item.document_id, t.item.pdf_sha256, ans.receipt)
        elif ans.status is p.AckStatus.REJECTED:
            self.source.mark_failed(t.item, f"refused by the gateway: {ans.reason or 'no reason'}")
            self.stats.rejected += 1
            log.warning("outbox row %d refused by the gateway (%s)", t.item.outbox_id, ans.reason)

    def _telemetry(self, link: MqttLink) -> None:
        now = time.monotonic()
        if now - self._last_telemetry < self.cfg.telemetry_interval_s:
            return
        self._last_telemetry = now
        audit_seq, audit_hash = self.source.audit_head()
        try:
            health = self.source.health()
        except (OSError, SohoaError) as exc:  # the counts still go out
            log.warning("telemetry without the box's health: %s", exc)
            health = {}
        health.pop("queue", None)
        payload = p.telemetry_payload(self.device_id, queue=self.source.queue_depth(), delivered=self.stats.delivered,
                                      chunks=self.stats.chunks, bytes=self.stats.payload_bytes,
                                      link_failures=self.stats.link_failures, audit_seq=audit_seq,
                                      audit_hash=audit_hash, **health)
        link.publish(p.topic(self.province, self.device_id, p.Kind.TELEMETRY), payload, qos=0,
                     properties=publish_properties(content_type=p.CT_JSON, expiry_s=3600))

    def release_expired(self) -> int:
        """Let the store drop local copies whose retention ran out (only ever after an ack)."""
        released = 0
        for doc, sha in self.progress.due_for_release(self.cfg.retention_days):
            if self.source.release_local_copy(doc, sha):
                released += 1
            self.progress.released(doc, sha)
        return released

    # -- connection management ---------------------------------------------------------
    def connect(self, host: str, port: int, *, announce: bool = True) -> MqttLink:
        """Open the link, announce ``online`` (retained) with an ``offline`` last will, subscribe.

        ``announce=False`` (a direct look-up while no worker runs) keeps the last will but does not
        say ``online``: the retained status is the worker's.
        """
        status_topic = p.topic(self.province, self.device_id, p.Kind.STATUS)
        link = MqttLink(client_id=self.device_id, host=host, port=port, tls=self.tls, on_message=self._on_message,
                        keepalive_s=self.cfg.keepalive_s, session_expiry_s=self.cfg.session_expiry_s,
                        clean_start=False, will=Will(status_topic, p.status_payload(self.device_id, "offline")),
                        max_inflight=self.cfg.max_inflight)
        link.connect()
        link.subscribe(p.device_subscription(self.province, self.device_id), qos=1)
        if not announce:
            return link
        link.publish(status_topic, p.status_payload(self.device_id, "online"), retain=True,
                     properties=publish_properties(content_type=p.CT_JSON))
        return link

    def run(self, host: str, port: int, *, max_seconds: float | None = None, until_empty: bool = False) -> WorkerStats:
        """Drain until stopped (or empty / out of time); reconnects with exponential back-off + jitter."""
        deadline = time.monotonic() + max_seconds if max_seconds is not None else None
        link: MqttLink | None = None

        def time_left() -> bool:
            return not self.stop.is_set() and (deadline is None or time.monotonic() < deadline)

        while time_left():
            self._beat(ROUND_BEAT_S)
            try:
                if link is None or not link.up:
                    if link is not None:
                        link.close()
                    link = self._link = self.connect(host, port)
                    self.progress.put("last_connect", str(int(time.time())))
                    self.progress.bump("connects")
                n = self.run_round(link)
                self._backoff.reset()
                self.release_expired()
                if n == 0:
                    if until_empty and self.source.queue_depth() == 0:
                        break
                    self._beat(self.cfg.idle_poll_s + BEAT_GRACE_S)
                    self.stop.wait(self.cfg.idle_poll_s)
            except LinkDown as exc:
                self.stats.link_failures += 1
                self.progress.bump("link_failures")
                delay = self._backoff.next_delay()
                log.info("link down (%s); retrying in %.1f s", exc.message, delay)
                if link is not None:
                    link.close()
                    link = self._link = None
                self._beat(delay + BEAT_GRACE_S)
                self.stop.wait(delay if deadline is None else max(0.0, min(delay, deadline - time.monotonic())))
            except StoreError as exc:
                log.error("device store error: %s", exc.message)
                self.stop.wait(self._backoff.next_delay())
        if link is not None and link.up:
            try:
                status_topic = p.topic(self.province, self.device_id, p.Kind.STATUS)
                info = link.publish(status_topic, p.status_payload(self.device_id, "offline"), retain=True,
                                    properties=publish_properties(content_type=p.CT_JSON))
                link.wait_published(info, 2.0)
            except SyncError:
                log.debug("could not announce offline; the last will covers it")
        if link is not None:
            link.close()
        self._link = None
        return self.stats

    def lookup(self, link: MqttLink, query: p.ReuseQuery, timeout_s: float = 10.0) -> p.ReuseAnswer:
        """Ask the gateway to find a reusable result paper (Art. 25.3 order on its side).

        The province answers only when ``query`` names the owner and a dossier this office holds for them
        (``errorCode`` 3 otherwise, 2 when rate-limited).
        """
        corr = os.urandom(8)
        reply = p.topic(self.province, self.device_id, p.Kind.REUSE_RESP)
        with self._cv:
            self._asked.add(corr)
        try:
            info = link.publish(p.topic(self.province, self.device_id, p.Kind.REUSE_REQ), query.encode(),
                                properties=publish_properties(content_type=p.CT_JSON, correlation=corr,
                                                              response_topic=reply, expiry_s=60))
            link.wait_published(info, timeout_s)
            deadline = time.monotonic() + timeout_s
            with self._cv:
                while corr not in self._reuse:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise SyncError("no answer to the reuse look-up", remedy="check the link and the gateway")
                    self._cv.wait(min(left, 0.5))
                return self._reuse.pop(corr)
        finally:
            with self._cv:
                self._asked.discard(corr)
                self._reuse.pop(corr, None)

    def lookup_on_link(self, query: p.ReuseQuery, timeout_s: float) -> p.ReuseAnswer:
        """A look-up on the running worker's own link (served to local processes; see ``lookup_ipc``).

        Waits up to ``timeout_s`` for the link while it reconnects; :class:`LinkDown` if it stays down.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            link = self._link
            if link is not None and link.up:
                return self.lookup(link, query, timeout_s=max(1.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline or self.stop.is_set():
                raise LinkDown("the sync worker is not connected to the province now")
            time.sleep(0.1)
