"""The bulkhead gate of one route class: at most ``slots`` requests inside, a bounded queue, fast refusal beyond.

Why a queue bound and not only a wait: under a flood, an unbounded queue holds every connection's memory and makes
each newcomer wait the full ``wait`` before failing; refusing at once beyond ``slots * queue_per_slot`` waiting
keeps the refusal cheap (no database work, microseconds) and the retry hint honest.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

from api.classes import RouteClass


class GateFull(Exception):
    """The class is saturated; answer 503 with ``Retry-After: retry_after``."""

    def __init__(self, route_class: str, reason: str, retry_after: int) -> None:
        super().__init__(f"{route_class}: {reason}")
        self.route_class, self.reason, self.retry_after = route_class, reason, retry_after


@dataclass
class GateStats:
    admitted: int = 0
    refused_full: int = 0
    refused_timeout: int = 0


class Gate:
    """An asyncio semaphore with a bounded number of waiters (one event loop per worker)."""

    def __init__(self, route_class: RouteClass) -> None:
        self.route_class = route_class
        self._sem = asyncio.Semaphore(route_class.slots)
        self.waiting = 0
        self.inside = 0
        self.stats = GateStats()

    @property
    def retry_after(self) -> int:
        """Seconds a refused caller should wait: half the class's wait (a slot usually frees by then)."""
        return max(1, math.ceil(self.route_class.wait / 2))

    async def enter(self) -> None:
        """Take a slot, waiting up to the class's ``wait``; raise GateFull when the queue is full or time runs out."""
        rc = self.route_class
        if self._sem.locked() or self.waiting:
            if self.waiting >= rc.max_waiting:
                self.stats.refused_full += 1
                raise GateFull(rc.name, f"{self.waiting} requests already waiting", self.retry_after)
            self.waiting += 1
            try:
                await asyncio.wait_for(self._sem.acquire(), timeout=rc.wait)
            except TimeoutError:
                self.stats.refused_timeout += 1
                raise GateFull(rc.name, f"no slot free within {rc.wait:g} s", self.retry_after) from None
            finally:
                self.waiting -= 1
        else:
            await self._sem.acquire()
        self.inside += 1
        self.stats.admitted += 1

    def leave(self) -> None:
        """Give the slot back (always, in a finally: a leaked slot would shrink the class for good)."""
        self.inside -= 1
        self._sem.release()
