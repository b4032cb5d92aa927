"""Bandwidth cap (token bucket); the back-off lives in :mod:`service.sync.mqttbase` (re-exported here)."""

from __future__ import annotations

import threading
import time

from service.sync.mqttbase import Backoff

__all__ = ["Backoff", "TokenBucket"]


class TokenBucket:
    """Caps average throughput at ``rate`` bytes/s with a burst of ``burst`` bytes (rate 0 = no cap)."""

    def __init__(self, rate: int, burst: int | None = None) -> None:
        self.rate = rate
        self.burst = float(burst if burst is not None else max(rate, 1))
        self._tokens = self.burst
        self._last = time.monotonic()

    def consume(self, n: int, stop: threading.Event | None = None) -> None:
        """Block until ``n`` bytes may be sent (returns early if ``stop`` is set)."""
        if self.rate <= 0:
            return
        need = float(n)
        for _ in range(100_000):  # bounded: each pass sleeps until enough tokens are due
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= min(need, self.burst):
                self._tokens -= need  # may go negative for a message bigger than the burst
                return
            wait = (min(need, self.burst) - self._tokens) / self.rate
            if stop is not None:
                if stop.wait(min(wait, 1.0)):
                    return
            else:
                time.sleep(min(wait, 1.0))
