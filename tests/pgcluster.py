"""A private PostgreSQL cluster for tests that restart the server (the shared one must never be restarted).

``initdb`` into a temporary directory with the same server binaries as the shared cluster (so PostGIS is available),
``pg_ctl`` on a free port with its own socket directory; as root the cluster runs as the ``postgres`` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2


def bindir() -> Path:
    """The server binaries: ``pg_config --bindir``, else the newest /usr/lib/postgresql/N/bin."""
    try:
        found = Path(
            subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        )
        if (found / "initdb").exists():
            return found
    except (OSError, subprocess.CalledProcessError):
        pass
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    assert candidates, "initdb not found: install the PostgreSQL server (scripts/setup.sh does)"
    return candidates[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PrivateCluster:
    root: Path
    port: int
    options: str = ""  # extra server settings, e.g. "-c max_connections=300"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [str(bindir() / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, timeout=timeout, capture_output=True)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off {self.options}".strip()
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w", "start")
        self.wait()

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def wait(self, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)


def start_cluster(port: int | None = None, options: str = "") -> PrivateCluster:
    root = Path(tempfile.mkdtemp(prefix="geogrid-pg-"))
    cluster = PrivateCluster(root, port or free_port(), options)
    cluster.init()
    cluster.start()
    return cluster


REPLICA_PORT = 55433


def start_replica(primary: PrivateCluster, port: int = REPLICA_PORT, options: str = "") -> PrivateCluster:
    """A streaming replica of ``primary``: ``pg_basebackup -R -X stream`` (standby.signal and primary_conninfo
    written for us), started as a hot standby. A private primary from ``initdb --auth=trust`` already allows
    replication connections from 127.0.0.1 and runs with wal_level=replica, so nothing on the shared server changes."""
    root = Path(tempfile.mkdtemp(prefix="geogrid-replica-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    replica = PrivateCluster(root, port, options)
    replica._run(
        "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-D", str(replica.data),
        "-R", "-X", "stream", "-c", "fast", "--no-sync",
    )  # fmt: skip
    replica.start()
    return replica


def destroy(cluster: PrivateCluster) -> None:
    try:
        cluster.stop()
    finally:
        shutil.rmtree(cluster.root, ignore_errors=True)
