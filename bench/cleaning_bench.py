"""Centerline cleaning benchmark: geogrid.roads.clean_centerlines vs neatnet.neatify, same input, one run.

    python bench/cleaning_bench.py                                  # synthetic 50 km² + Wuhan 5×5 km window
    python bench/cleaning_bench.py --input synthetic --out bench/out
    python bench/cleaning_bench.py --input wuhan --wuhan-dir ../shared/data/wuhan --window-km 5

Wuhan window: a ``--window-km`` square around the centre of the network's bounding box (5 km → 5,744 edges, the
window the issue quotes), edges clipped to it. For each input: wall time and peak RSS of both (each in a forked
child), the time ratio, edge counts and lengths, and agreement: the share of geogrid's centerline length lying
within 15 m of neatnet's lines and the share of neatnet's within 15 m of geogrid's (a two-sided, Hausdorff-style
buffer test computed by ``geogrid.metrics.borders.share_within``). Writes ``cleaning.json`` and one PNG per input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_inputs import DEFAULT_WUHAN_DIR, WUHAN_NETWORK, BenchInput, synthetic_input, window  # noqa: E402
from bench_run import measured  # noqa: E402

from geogrid.metrics.borders import share_within  # noqa: E402

TOL_M = 15.0


def run_geogrid(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    from geogrid.roads import clean_centerlines

    return clean_centerlines(roads)


def run_neatnet(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    import neatnet

    return neatnet.neatify(roads)


def _lines(gdf: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    gdf = gdf.to_crs(crs) if gdf.crs is not None and crs is not None else gdf
    geoms = shapely.get_parts(gdf.geometry.to_numpy())
    return gpd.GeoDataFrame(geometry=geoms[shapely.get_type_id(geoms) == 1], crs=crs)


def compare(label: str, roads: gpd.GeoDataFrame, timeout: float, out_dir: Path) -> dict:
    import neatnet  # noqa: F401

    import geogrid.roads  # noqa: F401 - imported once in the parent, not timed in the child

    print(f"{label}: {len(roads):,} input edges", flush=True)
    g = measured(run_geogrid, roads, timeout=timeout)
    n = measured(run_neatnet, roads, timeout=timeout)
    row: dict = {"input": label, "input_edges": int(len(roads)), "input_km": round(roads.length.sum() / 1e3, 2)}
    for name, m in (("geogrid", g), ("neatnet", n)):
        row[name] = {"ok": m.ok, "seconds": m.seconds, "peak_rss_mb": m.peak_rss_mb, "error": m.error}
        if m.ok:
            lines = _lines(m.value, roads.crs)
            row[name].update(edges=int(len(lines)), km=round(float(lines.length.sum()) / 1e3, 2))
    if g.ok and n.ok:
        gl, nl = _lines(g.value, roads.crs), _lines(n.value, roads.crs)
        ga, na = gl.geometry.to_numpy(), nl.geometry.to_numpy()
        row["geogrid_within_15m_of_neatnet_pct"] = round(100 * share_within(ga, na, TOL_M), 2)
        row["neatnet_within_15m_of_geogrid_pct"] = round(100 * share_within(na, ga, TOL_M), 2)
        row["speed_ratio_neatnet_over_geogrid"] = round(n.seconds / g.seconds, 2) if g.seconds else None
        _draw(label, roads, gl, nl, out_dir / f"cleaning_{label.split()[0]}.png")
    return row


def _draw(label: str, roads, gl, nl, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(16, 8))
    x0, y0, x1, y1 = roads.total_bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    for ax, half in zip(axes, (max(x1 - x0, y1 - y0) / 2, 600.0), strict=True):
        roads.plot(ax=ax, color="#bbbbbb", linewidth=2.5)
        nl.plot(ax=ax, color="#1f77b4", linewidth=1.2, label="neatnet")
        gl.plot(ax=ax, color="#d62728", linewidth=0.7, label="geogrid")
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy - half, cy + half)
        ax.set_axis_off()
    axes[0].legend(loc="lower left")
    axes[0].set_title(f"{label}: input grey, neatnet blue, geogrid red")
    axes[1].set_title("centre, 1.2 km")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _print(rows: list[dict]) -> None:
    head = f"{'input':34s}{'edges in':>9s}{'geogrid s':>11s}{'neatnet s':>11s}{'ratio':>8s}"
    head += f"{'edges g':>9s}{'edges n':>9s}{'g≤15m n %':>11s}{'n≤15m g %':>11s}{'RSS g/n MB':>13s}"
    print(head)
    for r in rows:
        g, n = r["geogrid"], r["neatnet"]

        def f(v, d=2):
            return "—" if v is None else (f"{v:.{d}f}" if isinstance(v, float) else str(v))

        ratio = r.get("speed_ratio_neatnet_over_geogrid")
        rss = f"{f(g.get('peak_rss_mb'), 0)}/{f(n.get('peak_rss_mb'), 0)}"
        print(
            f"{r['input'][:33]:34s}{r['input_edges']:>9,}{f(g.get('seconds')):>11s}{f(n.get('seconds')):>11s}"
            f"{(f(ratio, 1) + '×') if ratio else '—':>8s}{f(g.get('edges')):>9s}{f(n.get('edges')):>9s}"
            f"{f(r.get('geogrid_within_15m_of_neatnet_pct')):>11s}{f(r.get('neatnet_within_15m_of_geogrid_pct')):>11s}"
            f"{rss:>13s}"
        )
        for name in ("geogrid", "neatnet"):
            if not r[name]["ok"]:
                print(f"  {name} failed: {(r[name]['error'] or '').splitlines()[0]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", nargs="+", choices=["synthetic", "wuhan"], default=["synthetic", "wuhan"])
    ap.add_argument("--wuhan-dir", default=DEFAULT_WUHAN_DIR)
    ap.add_argument("--window-km", type=float, default=5.0)
    ap.add_argument("--area-km2", type=float, default=50.0, help="synthetic district size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per method and input")
    ap.add_argument("--out", default="bench/out")
    args = ap.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ".gitignore").write_text("*\n")  # results are regenerated, never committed

    rows = []
    for name in args.input:
        t0 = time.perf_counter()
        if name == "synthetic":
            inp: BenchInput = synthetic_input(args.area_km2, seed=args.seed)
            roads, label = inp.roads, f"synthetic {args.area_km2:g} km² seed {args.seed}"
        else:
            path = Path(args.wuhan_dir) / WUHAN_NETWORK
            if not path.exists():
                raise SystemExit(f"Wuhan network not found: {path} (pass --wuhan-dir DIR or --input synthetic)")
            roads = window(gpd.read_parquet(path), args.window_km * 1000.0)
            label = f"wuhan {args.window_km:g}×{args.window_km:g} km window"
        print(f"(loaded {label} in {time.perf_counter() - t0:.1f} s)")
        rows.append(compare(label, roads, args.timeout, out_dir))

    print()
    _print(rows)
    summary = {
        "command": " ".join(["python", "bench/cleaning_bench.py", *(argv if argv is not None else sys.argv[1:])]),
        "tolerance_m": TOL_M,
        "rows": rows,
    }
    (out_dir / "cleaning.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    print(f"wrote {out_dir / 'cleaning.json'}")
    return 0 if all(r["geogrid"]["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
