"""``GEOGRID_NOTIFY_*``: warning share, retry schedule, worker pacing. Built once by whoever runs the worker."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class NotifySettings:
    """How warnings are timed and how deliveries are retried.

    The n-th failed attempt is retried after ``min(backoff_base_s * 2 ** (n - 1), backoff_max_s)`` seconds; after
    ``max_attempts`` failures the delivery is dead-lettered. ``lease_s`` is how long a claimed delivery belongs to
    one worker: a worker that dies mid-post loses it to another after that, which then posts again (at least once).
    """

    warn_share: float = 0.8
    max_attempts: int = 8
    backoff_base_s: float = 5.0
    backoff_max_s: float = 3600.0
    timeout_s: float = 10.0
    lease_s: float = 60.0
    batch: int = 50
    poll_s: float = 2.0
    worker_in_api: bool = False

    @classmethod
    def from_env(cls) -> NotifySettings:
        env = os.environ

        def num(name: str, default: float) -> float:
            return float(env.get(f"GEOGRID_NOTIFY_{name}", default))

        share = num("WARN_SHARE", cls.warn_share)
        if not 0 < share < 1:
            raise ValueError(f"GEOGRID_NOTIFY_WARN_SHARE must be between 0 and 1 (exclusive), not {share}")
        return cls(
            warn_share=share,
            max_attempts=int(num("MAX_ATTEMPTS", cls.max_attempts)),
            backoff_base_s=num("BACKOFF_BASE_S", cls.backoff_base_s),
            backoff_max_s=num("BACKOFF_MAX_S", cls.backoff_max_s),
            timeout_s=num("TIMEOUT_S", cls.timeout_s),
            lease_s=num("LEASE_S", cls.lease_s),
            batch=int(num("BATCH", cls.batch)),
            poll_s=num("POLL_S", cls.poll_s),
            worker_in_api=env.get("GEOGRID_NOTIFY_WORKER", "0").strip().lower() in ("1", "true", "yes"),
        )

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure."""
        return min(self.backoff_base_s * 2 ** max(attempts - 1, 0), self.backoff_max_s)
