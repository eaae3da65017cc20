"""Starting the API under test: uvicorn on a loopback port, waited for until a probe answers 200.

One place for what every HTTP benchmark needs, so each bench states only what it changes (environment, workers,
probe). The worker health-check timeout is generous because a worker building a city-sized locate index holds the
GIL for seconds at a time, and uvicorn's default 5 s would kill it mid-build, forever (issue 9).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_uvicorn(
    env: dict[str, str],
    port: int,
    workers: int = 1,
    probe: str = "/healthz",
    wait_s: float = 900,
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen:
    """uvicorn serving ``api.main:app`` with ``env`` over the process environment; returns once ``probe`` is 200."""
    cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--timeout-worker-healthcheck", "300", "--log-level", "warning",
           "--no-access-log", *extra_args]  # fmt: skip
    full = {**os.environ, **env}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=wait_s).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"uvicorn did not answer {probe} within {wait_s:.0f} s")
