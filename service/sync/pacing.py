"""Bandwidth cap (token bucket) and exponential back-off with jitter."""

from __future__ import annotations

import random
import threading
import time


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


class Backoff:
    """Exponential back-off: ``initial * 2**n`` capped at ``maximum``, times a random jitter factor."""

    def __init__(self, initial: float, maximum: float, jitter: float, rng: random.Random | None = None) -> None:
        self.initial, self.maximum, self.jitter = initial, maximum, jitter
        self.failures = 0
        self._rng = rng or random.Random()

    def delay_for(self, failures: int) -> float:
        """Delay after ``failures`` consecutive failures (first failure → about ``initial``)."""
        base = min(self.maximum, self.initial * (2 ** max(0, min(failures - 1, 30))))
        return base * (1 - self.jitter * self._rng.random())

    def next_delay(self) -> float:
        """Register one more failure and return how long to wait."""
        self.failures += 1
        return self.delay_for(self.failures)

    def reset(self) -> None:
        """Back to the initial delay after a success."""
        self.failures = 0
