"""Every ``sh`` block of README.md that calls curl runs as written against a freshly loaded demo.

The blocks run in order in one bash (``set -eo pipefail``, ``PORT`` set to the test server's port), so variables such
as ``KEY`` and ``GRID`` carry over as they would in a reader's terminal. ``curl`` is wrapped to record each call's
HTTP status and body. A comment line right under a command shows parts of its answer: a leading three-digit number is
its status (otherwise any 2xx), and every ``"key": value`` pair shown (without "…") must appear in the body.
Blocks that start or serve the demo are left out: the test started it.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.serving import ROOT

README = ROOT / "README.md"
SERVING = ("scripts/demo.sh", "geogrid demo", "geogrid serve")
PAIR = re.compile(r'"([^"]+)":\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)')
PRELUDE = r"""
set -eo pipefail
echo 0 > "$CURL_LOG/count"
curl() {  # the count lives in a file: a call inside $(…) runs in a subshell
    local N=$(( $(cat "$CURL_LOG/count") + 1 ))
    echo "$N" > "$CURL_LOG/count"
    command curl -sS -w '%{stderr}%{http_code}' "$@" 2> "$CURL_LOG/$N.status" | tee "$CURL_LOG/$N.body"
}
"""


@dataclass
class Call:
    command: str
    status: int | None = None
    pairs: list[str] = field(default_factory=list)


def sh_blocks(markdown: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", markdown, flags=re.S)


def runnable(block: str) -> bool:
    return "curl" in block and not any(s in block for s in SERVING)


def expectations(blocks: list[str]) -> list[Call]:
    """The curl calls in order, each with the status and answer fragments its comment lines show."""
    calls: list[Call] = []
    for block in blocks:
        for line in block.splitlines():
            stripped = line.strip()
            if stripped.startswith("#"):
                if calls and not calls[-1].command.endswith("\\"):
                    shown = stripped.lstrip("# ")
                    if (m := re.match(r"(\d{3})\b", shown)) and calls[-1].status is None and not calls[-1].pairs:
                        calls[-1].status = int(m.group(1))
                    calls[-1].pairs += [f'"{k}":{v}' for k, v in PAIR.findall(shown) if "…" not in v]
                continue
            for _ in re.finditer(r"(?:^|\$\(|\s)curl\s", line):
                calls.append(Call(stripped))
            if calls and calls[-1].command.endswith("\\") and "curl" not in line:
                calls[-1].command = stripped  # a continuation line: comments after it belong to the call
    return calls


def test_every_readme_curl_example_runs_as_written(demo_url: str, demo_server: str, tmp_path: Path) -> None:
    blocks = [b for b in sh_blocks(README.read_text(encoding="utf-8")) if runnable(b)]
    assert len(blocks) >= 5
    calls = expectations(blocks)
    log = tmp_path / "curl"
    log.mkdir()
    work = tmp_path / "work"  # files the examples write (t.mvt, plan.zip) land here, next to the repo's data/ and .venv
    work.mkdir()
    for name in (".venv", "data"):
        (work / name).symlink_to(ROOT / name)
    script = PRELUDE + "\n".join(blocks)
    env = {**os.environ, "PORT": demo_server.rsplit(":", 1)[1], "CURL_LOG": str(log), "GEOGRID_DATABASE_URL": demo_url}
    done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{done.stderr[-3000:]}\n{done.stdout[-2000:]}"
    ran = len(list(log.glob("*.status")))
    assert ran == len(calls), f"README has {len(calls)} curl calls, {ran} ran"
    for n, call in enumerate(calls, start=1):
        status = int((log / f"{n}.status").read_text().strip()[-3:])
        body = re.sub(r"\s+", "", (log / f"{n}.body").read_text(encoding="utf-8", errors="replace"))
        if call.status is not None:
            assert status == call.status, (call.command, status, body[:500])
        else:
            assert 200 <= status < 300, (call.command, status, body[:500])
        for pair in call.pairs:
            assert re.sub(r"\s+", "", pair) in body, (call.command, pair, body[:800])
    assert (work / "t.mvt").stat().st_size > 0 and (work / "plan.gpkg").stat().st_size > 0
