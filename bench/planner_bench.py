"""Workbench benchmark: how long each edit of a 300-grid draft takes to answer, next to a full validation.

Builds a scratch store with the synthetic 50 km² district (``geogrid.synthetic.make_district``: 56 communities),
partitions it into 300 grids with the engine, stores the plan with its road centrelines and copies it into a draft.
Then starts ``uvicorn api.main:app`` on 127.0.0.1 and, for ``--reps`` rounds, times over HTTP (request → parsed
answer, which carries the changed grids and the live checks of the whole draft):

    move (block ids), move (a drawn polygon), merge, split, recode, set, undo, redo

and, in the same run, the baselines:

    A. the plain validation of the whole plan (``geogrid.validation.build_report``, in process, no HTTP): what
       checking the draft from scratch after an edit would cost;
    B. ``GET /v1/plans/{draft}/checks`` (the live checks alone, over HTTP: the floor of any answer).

It prints median, p95 and max per operation, errors, and the ratio of each median to baseline A. Usage::

    python bench/planner_bench.py --reps 15 [--port 19250] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import shapely
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intake_bench import free_port, start_api  # noqa: E402  (bench/ is on the path when run as a script)

from geogrid.config import PartitionConfig  # noqa: E402
from geogrid.partition import partition  # noqa: E402
from geogrid.planner.drafts import copy_plan  # noqa: E402
from geogrid.planner.roads import attach_roads  # noqa: E402
from geogrid.settings import database_url  # noqa: E402
from geogrid.store.accounts import create_account  # noqa: E402
from geogrid.store.db import drop_database, get_engine, init_store, sa_url, session_scope  # noqa: E402
from geogrid.store.imports import import_admin  # noqa: E402
from geogrid.store.plans import save_draft_plan  # noqa: E402
from geogrid.synthetic import make_district, write_district  # noqa: E402
from geogrid.validation import build_report, find_plan  # noqa: E402

PLAN, DRAFT = "bench-300", "bench-300-draft"
NEIGHBOUR_BLOCK = """
SELECT b.id, b.grid_code, g.code AS other, ST_AsBinary(b.geom) AS wkb FROM plan_block b
JOIN grid g ON g.plan_id = b.plan_id AND g.code <> b.grid_code AND ST_Intersects(b.geom, g.geom)
JOIN grid s ON s.plan_id = b.plan_id AND s.code = b.grid_code AND s.community_id = g.community_id
JOIN plan p ON p.id = b.plan_id
WHERE p.name = :p AND (SELECT count(*) FROM plan_block x WHERE x.plan_id = b.plan_id AND x.grid_code = b.grid_code) > 2
ORDER BY ST_Length(ST_Intersection(ST_Boundary(b.geom), g.geom)) DESC LIMIT 1
"""
NEIGHBOURS = """
SELECT a.code, b.code FROM grid a JOIN grid b ON b.plan_id = a.plan_id AND a.code < b.code
AND a.community_id = b.community_id AND ST_Intersects(a.geom, b.geom) JOIN plan p ON p.id = a.plan_id
WHERE p.name = :p AND NOT (a.code = ANY(:skip) OR b.code = ANY(:skip))
ORDER BY ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) DESC LIMIT 1
"""
BIGGEST = """
SELECT g.code, ST_AsBinary(g.geom) FROM grid g JOIN plan p ON p.id = g.plan_id
WHERE p.name = :p AND NOT (g.code = ANY(:skip)) ORDER BY g.area_m2 DESC LIMIT 1
"""


def build(url: str, tmp: Path) -> tuple[str, float]:
    """The 300-grid plan, its roads and admin areas, a draft copy; returns a planner's API key and the copy's
    seconds (blocks and checks from scratch)."""
    district = make_district(50.0, seed=1)
    result = partition(
        district.roads,
        district.boundary,
        communities=district.communities,
        tier_zones=district.tier_zones,
        config=PartitionConfig(target_count=300),
    )
    paths = write_district(district, tmp)
    with session_scope(url) as s:
        import_admin(s, paths["boundary"], "district")
        import_admin(s, paths["streets"], "street", parent_field="parent_code")
        import_admin(s, paths["communities"], "community", parent_field="parent_code")
        plan = save_draft_plan(s, result.grids, layer="responsibility", plan=PLAN, report=result.report)
        attach_roads(s, plan, result.centerlines, source="synthetic")
        _, key = create_account(s, "bench-planner", "planner")
    t = time.perf_counter()
    with session_scope(url) as s:
        copy_plan(s, PLAN, DRAFT, ("bench", None))
    return key, time.perf_counter() - t


class Timer:
    """Per-operation latencies and errors."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.ms: dict[str, list[float]] = {}
        self.errors: dict[str, list[str]] = {}

    def call(self, name: str, path: str, body: dict | None = None, method: str = "POST") -> dict | None:
        t = time.perf_counter()
        r = self.client.request(method, path, json=body)
        data = r.json()
        elapsed = (time.perf_counter() - t) * 1000
        if r.status_code != 200:
            self.errors.setdefault(name, []).append(f"{r.status_code}: {data.get('message')}")
            return None
        self.ms.setdefault(name, []).append(elapsed)
        return data


def targets(url: str) -> dict:
    with session_scope(url) as s:
        block = s.execute(text(NEIGHBOUR_BLOCK), {"p": DRAFT}).one()
        a, b = s.execute(text(NEIGHBOURS), {"p": DRAFT, "skip": [block.grid_code, block.other]}).one()
        big, wkb = s.execute(text(BIGGEST), {"p": DRAFT, "skip": [block.grid_code, block.other, a, b]}).one()
    g = shapely.from_wkb(bytes(wkb))
    c = shapely.point_on_surface(g)
    x0, _, x1, _ = g.bounds
    lasso = shapely.buffer(shapely.from_wkb(bytes(block.wkb)), -0.00003)  # ~3 m inside the block's streets
    return {
        "block": block.id,
        "source": block.grid_code,
        "target": block.other,
        "lasso": json.loads(shapely.to_geojson(lasso)),
        "merge": [a, b],
        "split": big,
        "line": {"type": "LineString", "coordinates": [[x0 - 0.001, c.y], [x1 + 0.001, c.y]]},
    }


def rounds(t: Timer, tg: dict, reps: int) -> None:
    edits = f"/v1/plans/{DRAFT}/edits"
    for _ in range(reps):
        t.call("move (block ids)", edits, {"op": "move", "blocks": [tg["block"]], "to": tg["target"]})
        t.call("move (block ids)", edits, {"op": "move", "blocks": [tg["block"]], "to": tg["source"]})
        t.call("move (polygon)", edits, {"op": "move", "geometry": tg["lasso"], "to": tg["target"]})
        t.call("undo", f"/v1/plans/{DRAFT}/undo")
        t.call("merge", edits, {"op": "merge", "codes": tg["merge"]})
        t.call("undo", f"/v1/plans/{DRAFT}/undo")
        t.call("redo", f"/v1/plans/{DRAFT}/redo")
        t.call("undo", f"/v1/plans/{DRAFT}/undo")
        t.call("split", edits, {"op": "split", "code": tg["split"], "line": tg["line"]})
        t.call("recode", edits, {"op": "recode"})
        t.call("undo", f"/v1/plans/{DRAFT}/undo")
        t.call("undo", f"/v1/plans/{DRAFT}/undo")
        t.call("set", edits, {"op": "set", "code": tg["source"], "tier": "A"})
        t.call("undo", f"/v1/plans/{DRAFT}/undo")
        t.call("checks (baseline B)", f"/v1/plans/{DRAFT}/checks", method="GET")


def validation_ms(url: str, reps: int) -> list[float]:
    out = []
    with session_scope(url) as s:
        plan = find_plan(s, DRAFT)
        for _ in range(reps):
            t = time.perf_counter()
            build_report(s, plan)
            out.append((time.perf_counter() - t) * 1000)
    return out


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(round(0.95 * (len(ordered) - 1))))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--port", type=int, default=0, help="API port (default: a free one)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    url = make_url(sa_url(database_url())).set(database=f"geogrid_bench_planner_{uuid.uuid4().hex[:8]}")
    url = url.render_as_string(hide_password=False)
    init_store(url)
    proc = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            key, copy_s = build(url, Path(tmp))
        tg = targets(url)
        port = args.port or free_port()
        proc = start_api(url, port, workers=1, media=str(Path(tempfile.gettempdir()) / "geogrid-bench-media"))
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=60) as client:
            timer = Timer(client)
            rounds(Timer(client), tg, 1)  # warm-up: connections, caches, first transformer builds
            rounds(timer, tg, args.reps)
        baseline = validation_ms(url, max(5, args.reps))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        get_engine.cache_clear()
        drop_database(url)
    base = summary(baseline)
    rows = {name: summary(ms) for name, ms in timer.ms.items()}
    print(f"planner bench: 300-grid draft, {args.reps} rounds; each edit answers with changed grids + live checks")
    print(f"{'operation':<28}{'n':>4}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'÷ baseline A':>14}{'errors':>8}")
    for name, r in [*rows.items(), ("validation (baseline A)", base)]:
        ratio = r["median_ms"] / base["median_ms"]
        errors = len(timer.errors.get(name, []))
        print(
            f"{name:<28}{r['n']:>4}{r['median_ms']:>11.1f}{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}{ratio:>14.2f}{errors:>8}"
        )
    blocks = "blocks and live checks from scratch"
    print(f"copy of the 300-grid plan into the draft ({blocks}): {copy_s * 1000:.0f} ms, once, in process")
    for name, errs in timer.errors.items():
        print(f"errors in {name}: {errs[:3]}")
    args.out.mkdir(parents=True, exist_ok=True)
    out = {"reps": args.reps, "copy_ms": round(copy_s * 1000), "operations": rows, "baseline_validation": base}
    out["errors"] = timer.errors
    (args.out / "planner_bench.json").write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
