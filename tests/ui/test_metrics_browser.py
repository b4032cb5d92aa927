"""The technician reads ``/metrics`` in Chromium (Prometheus text read from the store at that moment)."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.support.chromium import screenshot


def test_the_technician_reads_metrics(page: Any, kiosk: Any, dev_token: str) -> None:
    base = kiosk()
    page.goto(f"{base}/login")
    page.get_by_test_id("username").fill("kythuat")
    page.get_by_test_id("password").fill("kythuat-dev")
    page.get_by_test_id("password-login").click()
    page.wait_for_url(f"{base}/technician/")
    resp = page.goto(f"{base}/metrics")
    assert resp is not None and resp.status == 200
    assert resp.headers["content-type"].startswith("text/plain")
    text = page.inner_text("body")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples[("sohoa_card_present", (("role", "officer"),))] == 1  # the development card is in
    assert samples[("sohoa_documents_digitized_total", (("kind", "component"),))] == 0
    assert ("sohoa_disk_free_bytes", ()) in samples and ("sohoa_ocr_seconds_count", ()) in samples
    screenshot(page, "45-technician-metrics")
