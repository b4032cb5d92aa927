"""The device's audit head travels in telemetry; the province flags a device whose history shrank.

Real handler on real PostgreSQL (the issue-16 truncation + rewound head is invisible on the box
to an attacker who also replaced the checkpoint; the province still remembers the highest head).
"""

from __future__ import annotations

import json
from pathlib import Path

from province_gateway.db import GatewayDb, connect
from province_gateway.filestore import GatewayFileStore
from province_gateway.handler import Handler
from province_gateway.verify import SignatureChecker, SignaturePolicy
from service.sync import protocol as p

DEV = "dev-a-0001"


def _telemetry(h: Handler, seq: int, head: str) -> None:
    body = p.telemetry_payload(DEV, queue=0, delivered=1, audit_seq=seq, audit_hash=head)
    h.handle(p.topic("70", DEV, p.Kind.TELEMETRY), body, None, None)


def test_a_lower_or_rewritten_audit_head_is_flagged(dsn: str, tmp_path: Path) -> None:
    conn = connect(dsn)
    try:
        h = Handler(GatewayDb(conn, "t"), GatewayFileStore(tmp_path / "f"), SignatureChecker(SignaturePolicy.OFF, []),
                    max_message_bytes=p.MAX_CHUNK_BYTES)

        def device() -> tuple[object, ...]:
            return tuple(conn.execute("SELECT audit_seq, audit_hash, history_alert FROM gw_device WHERE device_id=%s",
                                      (DEV,)).fetchone())

        _telemetry(h, 40, "a" * 64)
        _telemetry(h, 41, "b" * 64)
        assert device() == (41, "b" * 64, None)
        _telemetry(h, 39, "c" * 64)  # the newest rows were deleted and the head rewound
        assert device() == (41, "b" * 64, "history-shrank")
        events = conn.execute("SELECT event FROM gw_event WHERE device_id=%s", (DEV,)).fetchall()
        assert ("history-shrank",) in events
        _telemetry(h, 41, "d" * 64)  # same length, other history
        assert device()[2] == "history-rewritten"
    finally:
        conn.close()


def test_the_worker_reports_the_store_head(tmp_path: Path) -> None:
    from service.paths import get_paths
    from service.store.store import Store
    from service.sync.store_source import StoreOutbox

    with Store.open(get_paths().ensure()) as store:
        store.audit_append(actor="test", action="probe", subject=None, details={})
        seq, head = StoreOutbox(store).audit_head()
        assert (seq, head) == store.audit_head() and seq >= 1 and len(head) == 64
        body = json.loads(p.telemetry_payload(DEV, audit_seq=seq, audit_hash=head))
        assert body["audit_seq"] == seq
