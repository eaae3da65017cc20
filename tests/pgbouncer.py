"""pgbouncer for tests: a private instance in transaction mode on port 56432, in front of the shared server.

Started from a generated ini in a temporary directory (as the ``postgres`` user when the tests run as root, since
pgbouncer refuses to run as root); trust authentication towards the local server, like the server itself.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2

PGBOUNCER_PORT = 56432


def binary() -> str:
    found = shutil.which("pgbouncer") or next((p for p in ("/usr/sbin/pgbouncer",) if Path(p).exists()), None)
    assert found, "pgbouncer is not installed: scripts/setup.sh installs it (apt-get install pgbouncer)"
    return found


@dataclass
class Bouncer:
    root: Path
    port: int
    proc: subprocess.Popen

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, command: str) -> list[dict]:
        """A SHOW command on the admin console, as dictionaries."""
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, dbname="pgbouncer", user="postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(command)
                names = [d[0] for d in cur.description]
                return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            conn.close()


INI = """[databases]
* = host={host} port={upstream}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir = {root}
auth_type = trust
auth_file = {root}/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 1000
default_pool_size = {pool}
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = {root}/pgbouncer.log
pidfile = {root}/pgbouncer.pid
"""


def start_bouncer(host: str, upstream: int, port: int = PGBOUNCER_PORT, pool: int = 20) -> Bouncer:
    """Start pgbouncer and wait until its admin console answers (at most 20 s)."""
    root = Path(tempfile.mkdtemp(prefix="geogrid-pgbouncer-"))
    (root / "pgbouncer.ini").write_text(INI.format(host=host, upstream=upstream, port=port, root=root, pool=pool))
    (root / "userlist.txt").write_text('"postgres" ""\n')
    cmd = [binary(), str(root / "pgbouncer.ini")]
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (root, root / "pgbouncer.ini", root / "userlist.txt"):
            os.chown(path, user.pw_uid, user.pw_gid)
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    bouncer = Bouncer(root, port, proc)
    end = time.monotonic() + 20
    while True:
        try:
            bouncer.admin("SHOW VERSION")
            return bouncer
        except psycopg2.OperationalError:
            if proc.poll() is not None or time.monotonic() > end:
                stop_bouncer(bouncer)
                log = (root / "pgbouncer.log").read_text() if (root / "pgbouncer.log").exists() else ""
                raise RuntimeError(f"pgbouncer did not start: {log[-1000:]}") from None
            time.sleep(0.1)


def stop_bouncer(bouncer: Bouncer) -> None:
    bouncer.proc.terminate()
    try:
        bouncer.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        bouncer.proc.kill()
        bouncer.proc.wait()
    shutil.rmtree(bouncer.root, ignore_errors=True)
