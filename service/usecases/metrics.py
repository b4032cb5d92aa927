"""Prometheus metrics of the box (``sohoa metrics``, the kiosk's ``GET /metrics``).

Every scrape builds a fresh :class:`prometheus_client.CollectorRegistry` from what the store holds
(documents, outbox, deliveries, persisted OCR durations and signing failures) and what the box
reports (disk, CPU temperature, card presence), so a scrape from any process sees the same values
and agrees with ``sohoa sync status``. No personal data: counts, states, reason classes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from service import hostinfo
from service.config import Config, load_config
from service.domain.errors import SohoaError
from service.paths import Paths, get_paths
from service.store import Store
from service.store.metrics import StoreMetrics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
log = logging.getLogger(__name__)
CardProbe = Callable[[Config, Paths], dict[str, bool]]
OUTBOX_STATES = ("queued", "sending", "delivered", "failed", "superseded")


def signing_cards_present(config: Config, paths: Paths) -> dict[str, bool]:
    """``{role: inserted}`` for the officer's and the agency's signing tokens."""
    from service.signing.status import token_status

    return {str(r["role"]): bool(r.get("present")) for r in token_status(config.signing, paths)}


@dataclass(eq=False)  # hashed by identity: the registry keys its collectors
class _Snapshot(Collector):
    """One scrape's values, read before the registry renders them (no ``_created`` series)."""

    store: StoreMetrics
    disk_free: int
    cpu_temp: float | None
    cards: dict[str, bool] | None

    def collect(self) -> Iterable[Metric]:
        """Every metric family of the scrape."""
        m = self.store
        docs = CounterMetricFamily("sohoa_documents_digitized", "Documents digitized and stored, by kind "
                                   "(component/result)", labels=["kind"])
        for kind, n in sorted(m.documents_by_kind.items()):
            docs.add_metric([kind], n)
        yield docs
        outbox = GaugeMetricFamily("sohoa_outbox_versions", "Outbox rows (document versions) per state",
                                   labels=["state"])
        for state in sorted(set(OUTBOX_STATES) | set(m.outbox_by_state)):
            outbox.add_metric([state], m.outbox_by_state.get(state, 0))
        yield outbox
        yield GaugeMetricFamily("sohoa_sync_last_success_timestamp_seconds",
                                "Unix time of the newest application ack from the province (0: never)",
                                value=m.last_delivered_at or 0)
        h = m.ocr_seconds
        yield HistogramMetricFamily("sohoa_ocr_seconds", "OCR time per page of digitized documents",
                                    buckets=[(repr(le), float(n)) for le, n in h.buckets] + [("+Inf", float(h.count))],
                                    sum_value=h.total)
        fails = CounterMetricFamily("sohoa_signing_failures", "Signatures that failed, by reason", labels=["reason"])
        for reason, n in sorted(m.signing_failures.items()):
            fails.add_metric([reason], n)
        yield fails
        yield GaugeMetricFamily("sohoa_disk_free_bytes", "Free bytes on the file system of the service home",
                                value=self.disk_free)
        if self.cpu_temp is not None:
            yield GaugeMetricFamily("sohoa_cpu_temperature_celsius", "CPU temperature (thermal zone)",
                                    value=self.cpu_temp)
        if self.cards is not None:
            card = GaugeMetricFamily("sohoa_card_present", "Signing token (card) inserted, by role", labels=["role"])
            for role, inserted in sorted(self.cards.items()):
                card.add_metric([role], 1 if inserted else 0)
            yield card


def registry(paths: Paths, config: Config, *, sysfs_root: Path | None = None,
             cards: CardProbe | None = signing_cards_present) -> CollectorRegistry:
    """A new registry holding every metric, read now (``cards=None`` leaves the card probe out)."""
    with Store.open(paths, config.store) as store:
        m = store.store_metrics()
    present: dict[str, bool] | None = None
    if cards is not None:
        try:
            present = cards(config, paths)
        except (SohoaError, RuntimeError) as exc:  # RuntimeError: a PKCS#11 error the driver did not map
            log.warning("no card reachable (%s): reported absent", type(exc).__name__)
            present = {"officer": False, "agency": False}
    reg = CollectorRegistry(auto_describe=False)
    reg.register(_Snapshot(m, hostinfo.disk_free_bytes(paths.home), hostinfo.cpu_temperature_c(sysfs_root), present))
    return reg


def exposition(paths: Paths | None = None, config: Config | None = None, *, sysfs_root: Path | None = None,
               cards: CardProbe | None = signing_cards_present) -> bytes:
    """The Prometheus text exposition of one scrape."""
    p = paths or get_paths()
    cfg = config or load_config(p.config)
    return bytes(generate_latest(registry(p, cfg, sysfs_root=sysfs_root, cards=cards)))
