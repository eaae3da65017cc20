"""Run one benchmarked method in a forked child: wall time, peak memory, a timeout that really stops it.

Why a child process: max-p and GerryChain can run for many minutes, and only a process can be stopped cleanly; a
fresh process also gives each method its own peak resident memory (``ru_maxrss``). After ``fork`` the child starts
with the parent's resident pages, so both the peak and the growth over the child's starting RSS are reported.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Measured:
    ok: bool
    value: Any = None
    seconds: float | None = None
    peak_rss_mb: float | None = None
    start_rss_mb: float | None = None
    error: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def growth_mb(self) -> float | None:
        if self.peak_rss_mb is None or self.start_rss_mb is None:
            return None
        return self.peak_rss_mb - self.start_rss_mb


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(conn, fn: Callable, args: tuple, kwargs: dict) -> None:
    try:
        start = _rss_mb()
        t0 = time.perf_counter()
        value = fn(*args, **kwargs)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        conn.send(Measured(True, value, seconds, peak, start))
    except BaseException as exc:  # noqa: BLE001 - report any failure of the measured method to the parent
        conn.send(Measured(False, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"))
    finally:
        conn.close()


def measured(fn: Callable, *args, timeout: float | None = None, **kwargs) -> Measured:
    """``fn(*args, **kwargs)`` in a forked child; ``ok=False`` with ``error='timeout'`` when it overruns."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, kwargs), daemon=True)
    t0 = time.perf_counter()
    proc.start()
    child.close()
    try:
        if parent.poll(timeout):
            result = parent.recv()
        else:
            proc.terminate()
            result = Measured(False, seconds=time.perf_counter() - t0, error=f"timeout after {timeout:g} s")
    except EOFError:
        result = Measured(False, error=f"child exited with code {proc.exitcode} (killed? out of memory?)")
    proc.join(10)
    if proc.is_alive():
        proc.kill()
        proc.join()
    return result
