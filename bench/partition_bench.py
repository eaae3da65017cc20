"""Partition benchmark: geogrid vs momepy+spopt max-p vs GerryChain, same input, one run, side by side.

    python bench/partition_bench.py --input synthetic --out bench/out
    python bench/partition_bench.py --input wuhan --wuhan-dir ../shared/data/wuhan --baseline-timeout 900
    python bench/partition_bench.py --input helsinki --skip-baseline maxp

Every method runs in its own forked process (wall time, peak RSS, a hard timeout). The baselines get geogrid's
grid count so plans are compared at equal size, and their grids get the tier of the geogrid grid they overlap most
(they know no tiers) so diameter limits can be checked. All plans are scored by ``bench_eval.evaluate`` against the
same reference: ``geogrid.roads.clean_centerlines`` of the input network. Writes ``partition_<input>.json`` and
``partition_<input>.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_baselines as baselines  # noqa: E402
from bench_eval import DEFAULT_LIMITS, evaluate, tiers_by_overlap  # noqa: E402
from bench_inputs import DEFAULT_WUHAN_DIR, BenchInput, clip_to, load_input  # noqa: E402
from bench_run import Measured, measured  # noqa: E402

METHODS = ("geogrid", "maxp", "gerrychain")
LABELS = {"geogrid": "geogrid", "maxp": "momepy + spopt max-p", "gerrychain": "GerryChain ReCom"}


# ------------------------------------------------------------------------------------------------ methods (children)


def run_geogrid(inp: BenchInput, config) -> dict:
    from geogrid.partition import partition

    t0 = time.perf_counter()
    res = partition(
        inp.roads,
        inp.boundary,
        communities=inp.communities,
        tier_zones=inp.tier_zones,
        barriers=inp.barriers,
        config=config,
        progress=False,
    )
    seconds = time.perf_counter() - t0
    grids = res.grids.to_crs(inp.crs)
    report = res.report if isinstance(res.report, dict) else getattr(res.report, "__dict__", {})
    return {"grids": grids, "blocks": int(len(res.blocks)), "report": report, "stages": {"partition": seconds}}


def run_baseline(inp: BenchInput, name: str, k: int, seed: int, bursts: int) -> dict:
    stages = {}
    t0 = time.perf_counter()
    blocks = baselines.enclosure_blocks(inp.roads, inp.boundary, inp.barriers)
    stages["enclosures"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    graph = baselines.block_graph(blocks)
    stages["graph"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if name == "maxp":
        labels, info = baselines.maxp_labels(blocks, graph, k, seed=seed)
    else:
        labels, info = baselines.gerrychain_labels(blocks, graph, k, seed=seed, bursts=bursts)
    stages["solve"] = time.perf_counter() - t0
    grids = baselines.dissolve(blocks, labels)
    return {"grids": grids, "blocks": int(len(blocks)), "info": info, "stages": stages}


# ------------------------------------------------------------------------------------------------ tables and maps


def _fmt(v, digits: int = 2) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def print_table(results: dict[str, dict]) -> None:
    names = [m for m in METHODS if m in results]
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, get) -> None:
        rows.append((label, [get(results[m]) for m in names]))

    add("status", lambda r: "ok" if r["ok"] else (r["error"] or "failed").splitlines()[0][:28])
    add("time s", lambda r: _fmt(r.get("seconds")))
    add("speed ratio (× geogrid)", lambda r: _fmt(r.get("ratio"), 1) + "×" if r.get("ratio") else "—")
    add("peak RSS MB", lambda r: _fmt(r.get("peak_rss_mb"), 0))
    add("RSS growth MB", lambda r: _fmt(r.get("growth_mb"), 0))
    add("blocks", lambda r: _fmt(r.get("blocks")))
    q = {m: results[m].get("quality") or {} for m in names}
    add("grids", lambda r: _fmt((r.get("quality") or {}).get("grids")))
    add("multi-part grids", lambda r: _fmt((r.get("quality") or {}).get("multipart_grids")))
    tiers = sorted({t for m in names for t in (q[m].get("tiers") or {})})

    def tier_value(r: dict, t: str, key: str):
        return _fmt(((r.get("quality") or {}).get("tiers") or {}).get(t, {}).get(key))

    for t in tiers:
        add(f"tier {t}: n", lambda r, t=t: tier_value(r, t, "n"))
        add(f"tier {t}: area CV", lambda r, t=t: tier_value(r, t, "cv"))
        add(f"tier {t}: max/mean", lambda r, t=t: tier_value(r, t, "max_mean"))
    for key, label in (
        ("pp_mean", "Polsby-Popper mean"),
        ("pp_min", "Polsby-Popper min"),
        ("reock_mean", "Reock mean"),
        ("crossing_community_pct", "% grids crossing community"),
        ("coverage_pct", "% boundary covered"),
        ("outside_pct", "% area outside boundary"),
        ("overlap_pct", "% area overlapping"),
        ("diameter_violations", "diameter violations"),
        ("diameter_max_m", "max diameter m"),
        ("border_on_centerline_pct", "% internal border ≤15 m of centerline"),
    ):
        add(label, lambda r, key=key: _fmt((r.get("quality") or {}).get(key)))
    width = max(len(label) for label, _ in rows) + 2
    cols = [max(len(LABELS[m]), *(len(vals[i]) for _, vals in rows)) + 2 for i, m in enumerate(names)]
    print("".ljust(width) + "".join(LABELS[m].rjust(c) for m, c in zip(names, cols, strict=True)))
    for label, vals in rows:
        print(label.ljust(width) + "".join(v.rjust(c) for v, c in zip(vals, cols, strict=True)))


def draw_maps(inp: BenchInput, plans: dict[str, gpd.GeoDataFrame], results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # district names are Chinese: list common CJK fonts first, matplotlib falls back glyph by glyph
    cjk = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "Microsoft YaHei", "PingFang SC"]
    plt.rcParams["font.sans-serif"] = cjk + list(plt.rcParams["font.sans-serif"])
    names = [m for m in METHODS if m in plans]
    if not names:
        return
    boundary = inp.boundary_geom
    x0, y0, x1, y1 = boundary.bounds
    roads = inp.roads[shapely.intersects(inp.roads.geometry.to_numpy(), shapely.box(x0, y0, x1, y1))]
    size = (7 * len(names), 7.4 * (y1 - y0) / max(x1 - x0, 1))
    fig, axes = plt.subplots(1, len(names), figsize=size, squeeze=False, layout="constrained")
    tier_colour = {"A": "#e41a1c", "B": "#ff7f00", "C": "#4daf4a"}
    for ax, m in zip(axes[0], names, strict=True):
        grids = plans[m]
        colours = [tier_colour.get(str(t), "#999999") for t in grids["tier"]]
        grids.plot(ax=ax, color=colours, alpha=0.35, edgecolor="none")
        roads.plot(ax=ax, color="#888888", linewidth=0.3)
        if inp.communities is not None:
            inp.communities.boundary.plot(ax=ax, color="#1f4e99", linewidth=0.8, linestyle="--")
        grids.boundary.plot(ax=ax, color="black", linewidth=0.9)
        gpd.GeoSeries([boundary], crs=inp.crs).boundary.plot(ax=ax, color="black", linewidth=2)
        r = results[m]
        ax.set_title(f"{LABELS[m]}: {len(grids)} grids, {_fmt(r.get('seconds'))} s")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_axis_off()
    legend = "fill = tier (A red, B orange, C green)"
    legend += ", dashed = communities" if inp.communities is not None else ""
    fig.suptitle(f"{inp.label} — {legend}")
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------ main


def _result(m: Measured) -> dict:
    out = {
        "ok": m.ok,
        "seconds": m.seconds,
        "peak_rss_mb": m.peak_rss_mb,
        "growth_mb": m.growth_mb,
        "error": m.error,
    }
    if m.ok:
        out["blocks"] = m.value.get("blocks")
        out["stages_s"] = {k: round(v, 3) for k, v in m.value.get("stages", {}).items()}
        if "info" in m.value:
            out["info"] = m.value["info"]
    return out


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float | int | str | bool) or obj is None:
        return obj
    return str(obj)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", choices=["synthetic", "wuhan", "helsinki"], default="synthetic")
    ap.add_argument("--wuhan-dir", default=DEFAULT_WUHAN_DIR, help="dir with the Wuhan parquet + district GeoJSON")
    ap.add_argument("--area-km2", type=float, default=50.0, help="synthetic district size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tier-zones", action="store_true", help="synthetic: pass the generated tier zones")
    ap.add_argument("--config", help="geogrid partition config (TOML/YAML), geogrid.config.load_config")
    ap.add_argument("--target-count", type=int, help="geogrid: total grids wanted (PartitionConfig.target_count)")
    ap.add_argument("--skip-baseline", action="append", default=[], choices=["maxp", "gerrychain"])
    ap.add_argument("--baseline-timeout", type=float, default=1800.0, help="seconds per baseline (default 1800)")
    ap.add_argument("--geogrid-timeout", type=float, default=900.0)
    ap.add_argument("--bursts", type=int, default=50, help="GerryChain short bursts (10 ReCom steps each)")
    ap.add_argument("--out", default="bench/out", help="directory for the JSON and PNG")
    return ap.parse_args(argv)


def _run_methods(args, inp: BenchInput, config) -> tuple[dict, dict, int]:
    """geogrid, then the baselines with geogrid's grid count: results and plans by method."""
    results: dict[str, dict] = {}
    plans: dict[str, gpd.GeoDataFrame] = {}
    print("geogrid …", flush=True)
    g = measured(run_geogrid, inp, config, timeout=args.geogrid_timeout)
    results["geogrid"] = _result(g)
    if g.ok:
        plans["geogrid"] = g.value["grids"]
        results["geogrid"]["report"] = g.value["report"]
        k = len(plans["geogrid"])
    else:
        print(f"  geogrid failed: {g.error}")
        k = max(2, round(inp.boundary_geom.area / 0.6e6))
    for name in ("maxp", "gerrychain"):
        if name in args.skip_baseline:
            continue
        print(f"{LABELS[name]} (k = {k}, timeout {args.baseline_timeout:g} s) …", flush=True)
        m = measured(run_baseline, inp, name, k, args.seed, args.bursts, timeout=args.baseline_timeout)
        results[name] = _result(m)
        if m.ok:
            plans[name] = m.value["grids"]
        else:
            print(f"  {name}: {m.error.splitlines()[0]}")
    return results, plans, k


def _evaluate_all(inp: BenchInput, config, results: dict, plans: dict) -> tuple[dict, float]:
    """One evaluation for every plan against geogrid's cleaning of the input network; baselines get tiers by overlap."""
    t0 = time.perf_counter()
    from geogrid.roads import clean_centerlines

    near = clip_to(inp.roads, shapely.buffer(inp.boundary_geom, 200.0))  # what lies in or next to the boundary
    centerlines = clean_centerlines(near).to_crs(inp.crs).geometry.to_numpy()
    clean_s = time.perf_counter() - t0
    communities = None if inp.communities is None else inp.communities.to_crs(inp.crs).geometry.to_numpy()
    ref = plans.get("geogrid")
    limits = dict(DEFAULT_LIMITS)
    if config is not None:
        limits.update({t: float(spec.max_diameter_m) for t, spec in config.tiers.items()})
    for name, grids in plans.items():
        if name != "geogrid" or "tier" not in grids:
            if ref is not None and "tier" in ref:
                tiers = tiers_by_overlap(grids.geometry.to_numpy(), ref.geometry.to_numpy(), ref["tier"].to_numpy())
            elif inp.tier_zones is not None:
                tz = inp.tier_zones
                tiers = tiers_by_overlap(grids.geometry.to_numpy(), tz.geometry.to_numpy(), tz["tier"].to_numpy())
            else:
                tiers = np.full(len(grids), "A", dtype=object)
            grids = grids.assign(tier=tiers)
            plans[name] = grids
        results[name]["quality"] = evaluate(
            grids, inp.boundary_geom, centerlines=centerlines, communities=communities, limits=limits
        )
    return limits, clean_s


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ".gitignore").write_text("*\n")  # results are regenerated, never committed
    config = _load_config(args.config)
    if args.target_count is not None:
        from dataclasses import replace

        from geogrid.config import PartitionConfig

        config = replace(config or PartitionConfig(), target_count=args.target_count)
    t0 = time.perf_counter()
    if args.input == "synthetic":
        inp = load_input("synthetic", seed=args.seed, area_km2=args.area_km2, tier_zones=args.tier_zones)
    else:
        inp = load_input(args.input, wuhan_dir=args.wuhan_dir)
    load_s = time.perf_counter() - t0
    print(f"input: {inp.label}: {inp.describe()} (loaded in {load_s:.1f} s)")
    import geogrid.partition  # noqa: F401 - import once in the parent so no child pays (or times) it

    results, plans, k = _run_methods(args, inp, config)
    limits, clean_s = _evaluate_all(inp, config, results, plans)
    base = results.get("geogrid", {}).get("seconds")
    for name in ("maxp", "gerrychain"):
        r = results.get(name)
        if r and base:
            secs = r.get("seconds")
            r["ratio"] = (secs / base) if secs else None
            r["ratio_is_lower_bound"] = not r["ok"] and "timeout" in (r.get("error") or "")
    print()
    print_table(results)
    for name in ("maxp", "gerrychain"):
        r = results.get(name)
        if r and r.get("ratio"):
            bound = "≥ " if r.get("ratio_is_lower_bound") else ""
            print(f"speed: geogrid is {bound}{r['ratio']:.1f}× faster than {LABELS[name]}")
    print(f"(reference centerlines: geogrid.roads.clean_centerlines, {clean_s:.1f} s; input load {load_s:.1f} s)")
    stem = f"partition_{args.input}"
    summary = {
        "command": " ".join(["python", "bench/partition_bench.py", *(argv if argv is not None else sys.argv[1:])]),
        "input": inp.describe(),
        "k_for_baselines": k,
        "limits_m": limits,
        "results": results,
        "reference_centerlines_s": round(clean_s, 3),
    }
    (out_dir / f"{stem}.json").write_text(json.dumps(_json_safe(summary), indent=2, ensure_ascii=False))
    draw_maps(inp, plans, results, out_dir / f"{stem}.png")
    print(f"wrote {out_dir / (stem + '.json')} and {out_dir / (stem + '.png')}")
    return 0 if results.get("geogrid", {}).get("ok") else 1


def _load_config(path: str | None):
    if not path:
        return None
    from geogrid.config import load_config

    return load_config(path)


if __name__ == "__main__":
    sys.exit(main())
