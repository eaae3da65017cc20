"""partition-many on dask vs the same districts one after another, in the same run (issue 15).

    python bench/partition_many_bench.py --data ../shared/data/wuhan --workers 2

The six central Wuhan districts (江岸 江汉 硚口 汉阳 武昌 青山, adcodes 420102–420107; boundaries in GCJ-02 from
DataV, OSM edges from neatnet's wuhan_8989) are partitioned with the patrol preset:

1. sequential (the baseline): ``run_district`` on each district's task, one after another in this process — the
   same tasks (same roads near each district, same configuration) the workers get, so the same work;
2. parallel: the same tasks through ``run_many`` on a dask LocalCluster of ``--workers`` single-threaded processes,
   timed end to end (cluster start included) and from submission to the merged layer;
3. equality: each district's grid codes and geometries from (2) against (1) and against a single
   ``partition()`` run given the whole road network (what ``geogrid partition --roads … --boundary …`` does).

With ``--rounds N`` both arms run N times, alternating which goes first, and the medians are compared; the CPU
seconds each arm spent on the districts are printed too (equal work: the sums should match), so a wall-clock ratio
depressed by other processes on a shared machine shows as such. Prints per-district times and grid counts, both
wall times, the ratio and every mismatch or refusal.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import geopandas as gpd

SIX = ("420102", "420103", "420104", "420105", "420106", "420107")
NETWORK = "wuhan_8989_original.parquet"
DISTRICTS = "datav_420100_wuhan_districts.json"


def _load(data: Path, codes: tuple[str, ...]):
    from geogrid.io import read_vector
    from geogrid.roads import read_roads

    for name in (NETWORK, DISTRICTS):
        if not (data / name).is_file():
            raise SystemExit(f"{data / name} not found (pass --data DIR with the Wuhan files)")
    roads = read_roads(data / NETWORK)
    table = read_vector(data / DISTRICTS, crs="gcj02")
    table["code"] = table["adcode"].astype(str)
    chosen = table[table["code"].isin(codes)].reset_index(drop=True)
    missing = set(codes) - set(chosen["code"])
    if missing:
        raise SystemExit(f"no district with adcode {sorted(missing)}")
    return roads, chosen


def _grids(path: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(path, layer="grids")


def _same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> bool:
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    return list(a.code) == list(b.code) and bool(a.geometry.geom_equals_exact(b.geometry, 1e-9).all())


def sequential(tasks) -> tuple[float, list[dict], dict[str, str]]:
    """Each task in turn; an engine refusal is recorded (its time counts, as it does on the cluster)."""
    from geogrid.partition import PartitionError
    from geogrid.partition.many import run_district

    t0 = time.perf_counter()
    rows, failed = [], {}
    for task in tasks:
        try:
            row = run_district(task)
        except PartitionError as exc:
            failed[task.code] = f"PartitionError: {exc}"
            print(f"  sequential {task.code}: REFUSED {exc}", flush=True)
            continue
        rows.append(row)
        print(f"  sequential {row['code']}: {row['grids']} grids, {row['seconds']:.1f} s", flush=True)
    return time.perf_counter() - t0, rows, failed


def parallel(tasks, workers: int) -> tuple[float, float, dict]:
    import logging

    from distributed import Client, LocalCluster

    from geogrid.partition.many import run_many

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    client = Client(cluster)
    try:
        report = run_many(
            tasks,
            client,
            on_done=lambda r: print(f"  parallel {r['code']}: {r['grids']} grids, {r['seconds']:.1f} s", flush=True),
            on_failed=lambda c, why: print(f"  parallel {c}: FAILED {why}", flush=True),
        )
    finally:
        client.close()
        cluster.close()
    return time.perf_counter() - t0, report.seconds, report.as_dict()


def full_roads_check(roads, districts, codes, cfg, par_dir: Path) -> list[str]:
    """Single runs given the whole network (as ``geogrid partition`` is); their grids must equal partition-many's."""
    from geogrid.partition import PartitionError, partition

    bad = []
    for i, code in enumerate(codes):
        try:
            result = partition(roads, districts.iloc[[i]].reset_index(drop=True), config=cfg, progress=False)
        except PartitionError as exc:  # must be refused by partition-many too
            ok = not (par_dir / f"{code}.gpkg").exists()
            print(f"  single run on the whole network {code}: refused too ({exc}); consistent: {ok}", flush=True)
            bad += [] if ok else [code]
            continue
        ok = (par_dir / f"{code}.gpkg").exists() and _same(result.grids, _grids(par_dir / f"{code}.gpkg"))
        print(f"  single run on the whole network {code}: {len(result.grids)} grids, equal: {ok}", flush=True)
        if not ok:
            bad.append(code)
    return bad


def _parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("GEOGRID_WUHAN_DIR", "../shared/data/wuhan"))
    ap.add_argument("--codes", default=",".join(SIX), help="adcodes (default: the six central districts)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--margin", type=float, default=1000.0, help="metres of roads around each district")
    ap.add_argument("--out", default="bench/out/partition_many")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of both arms, alternating order; medians")
    ap.add_argument("--skip-full-check", action="store_true", help="skip the whole-network single runs")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from geogrid.config import preset_config
    from geogrid.partition.many import make_tasks

    args = _parse(argv)
    codes = tuple(c.strip() for c in args.codes.split(",") if c.strip())
    out = Path(args.out)
    seq_dir, par_dir = out / "sequential", out / "parallel"
    for d in (seq_dir, par_dir):
        shutil.rmtree(d, ignore_errors=True)
    roads, districts = _load(Path(args.data), codes)
    cfg = preset_config("patrol")
    codes = tuple(districts["code"])
    seq_tasks = make_tasks(districts, list(codes), roads, cfg, seq_dir, args.margin)
    par_tasks = make_tasks(districts, list(codes), roads, cfg, par_dir, args.margin)
    print(f"{len(codes)} districts, {len(roads)} road edges; edges per task: {[len(t.roads) for t in seq_tasks]}")
    print(f"cpu cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")

    runs = []
    for r in range(args.rounds):  # arms alternate which goes first: a load change on the machine hits both
        order = ("seq", "par") if r % 2 == 0 else ("par", "seq")
        got = {}
        for arm in order:
            arm_dir = seq_dir if arm == "seq" else par_dir  # emptied: every round redoes every district
            shutil.rmtree(arm_dir, ignore_errors=True)
            arm_dir.mkdir(parents=True)
            print(f"round {r + 1}: {arm}", flush=True)
            got[arm] = sequential(seq_tasks) if arm == "seq" else parallel(par_tasks, args.workers)
        runs.append(got)
    seq_s = statistics.median(run["seq"][0] for run in runs)
    par_total = statistics.median(run["par"][0] for run in runs)
    par_run = statistics.median(run["par"][1] for run in runs)
    _, seq_rows, seq_failed = runs[-1]["seq"]
    report = runs[-1]["par"][2]
    done = [c for c in codes if c not in seq_failed]
    mismatched = [c for c in done if not _same(_grids(seq_dir / f"{c}.gpkg"), _grids(par_dir / f"{c}.gpkg"))]
    if sorted(seq_failed) != sorted(report["failed"]):
        mismatched.append(f"refused sequentially {sorted(seq_failed)} vs in parallel {sorted(report['failed'])}")
    full_bad = [] if args.skip_full_check else full_roads_check(roads, districts, codes, cfg, par_dir)
    summary = {
        "districts": list(codes),
        "grids": {r["code"]: r["grids"] for r in seq_rows},
        "rounds": args.rounds,
        "sequential_s_each_round": [round(run["seq"][0], 2) for run in runs],
        "parallel_s_each_round": [round(run["par"][0], 2) for run in runs],
        "cpu_s_sequential": round(sum(r["cpu_seconds"] for r in seq_rows), 2),
        "cpu_s_parallel_workers": round(sum(r["cpu_seconds"] for r in report["done"]), 2),
        "sequential_s": round(seq_s, 2),
        "parallel_end_to_end_s": round(par_total, 2),
        "parallel_run_s": round(par_run, 2),
        "speedup_end_to_end": round(seq_s / par_total, 2),
        "speedup_run": round(seq_s / par_run, 2),
        "workers": args.workers,
        "refused_by_the_engine_sequential": seq_failed,
        "refused_by_the_engine_parallel": report["failed"],
        "codes_differ_from_sequential": mismatched,
        "codes_differ_from_whole_network_single_runs": None if args.skip_full_check else full_bad,
        "merged": report["merged"],
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if (mismatched or full_bad) else 0


if __name__ == "__main__":
    sys.exit(main())
