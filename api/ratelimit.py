"""Token buckets per caller: per API key for callers with a key, per client address for anonymous callers.

Why separate buckets: an anonymous flood from one address (a NAT, a hostile script) must not throttle a reporter
whose key is used from the same address, so keyed callers never draw from the address's bucket. Admins are not
limited. Tile requests draw from their own, larger bucket (per key or per address): a map opening asks for dozens
of tiles at once, and must not use up the budget of the same caller's edits.

Settings (requests per second and burst size): ``GEOGRID_EDGE_RATE_ANON`` / ``_ANON_BURST`` (default 50 / 200),
``GEOGRID_EDGE_RATE_KEY`` / ``_KEY_BURST`` (100 / 400), ``GEOGRID_EDGE_RATE_TILES`` / ``_TILES_BURST``
(200 / 1000, tiles); ``GEOGRID_EDGE_RATE_LIMITS=off`` disables all of them.
The standard library has no token bucket and the usual packages (limits, slowapi) bring their own storage layers
and middleware; the bucket itself is ten lines.
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: float


@dataclass(frozen=True)
class RateSettings:
    enabled: bool = True
    anon: Rate = Rate(50, 200)
    keyed: Rate = Rate(100, 400)
    tiles: Rate = Rate(200, 1000)

    @classmethod
    def from_env(cls) -> RateSettings:
        """Read once per worker at start; a bad value stops the start rather than running unlimited."""
        env = os.environ

        def rate(name: str, default: Rate) -> Rate:
            per = float(env.get(f"GEOGRID_EDGE_RATE_{name}", default.per_second))
            burst = float(env.get(f"GEOGRID_EDGE_RATE_{name}_BURST", default.burst))
            if per <= 0 or burst < 1:
                raise ValueError(f"GEOGRID_EDGE_RATE_{name}: rate must be > 0 and burst >= 1")
            return Rate(per, burst)

        enabled = env.get("GEOGRID_EDGE_RATE_LIMITS", "on").strip().lower() not in ("off", "0", "false", "no")
        return cls(enabled, rate("ANON", cls.anon), rate("KEY", cls.keyed), rate("TILES", cls.tiles))


class Buckets:
    """A bounded map of token buckets (least recently used buckets are forgotten: they were full anyway)."""

    def __init__(self, max_buckets: int = 50_000) -> None:
        self._buckets: OrderedDict[tuple, tuple[float, float]] = OrderedDict()
        self.max_buckets = max_buckets

    def take(self, who: tuple, rate: Rate, now: float | None = None) -> int:
        """Take one token; 0 when granted, else the seconds to wait before one is there (for Retry-After)."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(who, (rate.burst, now))
        tokens = min(rate.burst, tokens + (now - last) * rate.per_second)
        granted = tokens >= 1
        self._buckets[who] = (tokens - 1 if granted else tokens, now)
        if len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)
        return 0 if granted else max(1, math.ceil((1 - tokens) / rate.per_second))
