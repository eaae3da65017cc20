"""Processes tests start and stop themselves: the API under uvicorn, the notify worker (never left running)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.serving import START_TIMEOUT_S

ROOT = Path(__file__).resolve().parents[1]
FAST_NOTIFY = {  # retry quickly so a test sees the whole life of a delivery in seconds
    "GEOGRID_NOTIFY_POLL_S": "0.2",
    "GEOGRID_NOTIFY_BACKOFF_BASE_S": "0.2",
    "GEOGRID_NOTIFY_BACKOFF_MAX_S": "2",
    "GEOGRID_NOTIFY_LEASE_S": "5",
    "GEOGRID_NOTIFY_TIMEOUT_S": "3",
    "GEOGRID_NOTIFY_MAX_ATTEMPTS": "50",
    "GEOGRID_LOCATE_POLL_SECONDS": "3600",
}


def _env(url: str, extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, "GEOGRID_DATABASE_URL": url, **FAST_NOTIFY, **extra}


def start_api(url: str, port: int, extra: dict[str, str], workers: int = 1) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=_env(url, extra), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < end:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("uvicorn did not come up")


def start_worker(url: str, extra: dict[str, str]) -> subprocess.Popen:
    cmd = [str(Path(sys.executable).with_name("geogrid")), "notify", "run"]
    return subprocess.Popen(cmd, env=_env(url, extra), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return (out or b"").decode()
