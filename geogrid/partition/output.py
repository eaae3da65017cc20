"""Write a partition: GeoPackage layers ``grids``, ``blocks`` and ``straight_cuts``, the JSON report, PNG maps.

Why maps with the plan: a planner checks a plan by eye first. The plan map shows the grids by tier with their
codes, the roads, and in red what needs a second look: every straight cut (a border on no road), holes kept out
of the jurisdiction, and tier islands. The refusal map shows where the inputs are wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geogrid.partition.engine import PartitionResult
from geogrid.partition.errors import PartitionError

TIER_COLOURS = {"A": "#e4572e", "B": "#f3a712", "C": "#76b041"}
CJK_FONTS = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "Microsoft YaHei"]


def write_gpkg(result: PartitionResult, path: str | Path) -> None:
    """Overwrite ``path`` with layers ``grids``, ``blocks`` and ``straight_cuts`` (EPSG:4490)."""
    path = Path(path)
    if path.exists():
        path.unlink()
    grids = result.grids.copy()
    grids["n_blocks"] = grids["n_blocks"].astype("int64")
    grids.to_file(path, layer="grids", driver="GPKG")
    result.blocks.to_file(path, layer="blocks", driver="GPKG", mode="a")
    if result.straight_cuts is not None and len(result.straight_cuts):
        result.straight_cuts.to_file(path, layer="straight_cuts", driver="GPKG", mode="a")


def write_report(result: PartitionResult, path: str | Path) -> None:
    Path(path).write_text(json.dumps(result.report, ensure_ascii=False, indent=2), encoding="utf-8")


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = CJK_FONTS + list(plt.rcParams["font.sans-serif"])
    return plt, *plt.subplots(figsize=(11, 11))


def _holes(report: dict, metric) -> gpd.GeoSeries:
    """Markers for the boundary's holes (their points, sized by area)."""
    holes = report.get("holes") or []
    pts = gpd.GeoSeries.from_xy([h["lon"] for h in holes], [h["lat"] for h in holes], crs=4490)
    return pts.to_crs(metric)


def write_map(result: PartitionResult, path: str | Path, layers: dict | None = None) -> None:
    """Grids by tier with codes, roads, and in red the straight cuts, holes and tier islands (matplotlib, Agg)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plt, fig, ax = _figure()
    metric = result.report.get("metric_crs")
    grids = result.grids.to_crs(metric)
    grids.plot(ax=ax, color=grids["tier"].map(TIER_COLOURS).fillna("#cccccc"), alpha=0.5, edgecolor="none")
    roads = (layers or {}).get("roads")
    lines = result.centerlines if roads is None else roads
    if lines is not None and len(lines):
        lines.to_crs(metric).clip(grids.total_bounds).plot(ax=ax, color="#555555", linewidth=0.3)
    grids.boundary.plot(ax=ax, color="black", linewidth=0.9)
    islands = set(result.report.get("never_junk", {}).get("tier_islands", []))
    if islands:
        grids[grids["code"].isin(islands)].boundary.plot(ax=ax, color="#c00000", linewidth=2.5)
    if result.straight_cuts is not None and len(result.straight_cuts):
        result.straight_cuts.to_crs(metric).plot(ax=ax, color="#c00000", linewidth=2.0, linestyle="--")
    holes = _holes(result.report, metric)
    if len(holes):
        holes.plot(ax=ax, marker="x", color="#c00000", markersize=80)
    if len(grids) <= 400:
        for geom, code in zip(grids.geometry, grids["code"], strict=True):
            p = geom.representative_point()
            ax.annotate(code[-3:], (p.x, p.y), ha="center", va="center", fontsize=6)
    handles = [
        Patch(color=c, alpha=0.5, label=f"tier {t}") for t, c in TIER_COLOURS.items() if (grids["tier"] == t).any()
    ]
    cuts = result.report.get("internal_border", {}).get("straight_cuts", [])
    handles.append(
        Line2D([], [], color="#c00000", ls="--", label=f"straight cuts ({sum(c['length_m'] for c in cuts):.0f} m)")
    )
    if len(holes):
        handles.append(Line2D([], [], color="#c00000", marker="x", ls="", label=f"holes kept out ({len(holes)})"))
    if islands:
        handles.append(Patch(facecolor="none", edgecolor="#c00000", label=f"tier islands ({len(islands)})"))
    ax.legend(handles=handles, loc="lower right", fontsize=8)
    ax.set_title(f"{len(grids)} grids — codes: last three digits")
    ax.set_axis_off()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def write_problem_map(error: PartitionError, layers: dict, path: str | Path) -> None:
    """The inputs (boundary, communities, roads) and a numbered red marker at each refused place."""
    plt, fig, ax = _figure()
    bnd = layers.get("boundary")
    frames = [f for f in (bnd, layers.get("communities")) if f is not None]
    metric = frames[0].estimate_utm_crs() if frames else "EPSG:3857"
    if layers.get("communities") is not None:
        layers["communities"].to_crs(metric).boundary.plot(ax=ax, color="#1f4e99", linewidth=0.8, linestyle="--")
    if bnd is not None:
        bnd.to_crs(metric).boundary.plot(ax=ax, color="black", linewidth=1.8)
    pts = gpd.GeoSeries.from_xy(*np.array(error.points).T, crs=4490).to_crs(metric)
    if layers.get("roads") is not None:
        view = shapely.box(*np.concatenate([pts.total_bounds[:2] - 2000, pts.total_bounds[2:] + 2000]))
        layers["roads"].to_crs(metric).clip(view).plot(ax=ax, color="#999999", linewidth=0.3)
    pts.plot(ax=ax, color="#c00000", markersize=60, marker="o", facecolor="none", linewidth=2)
    for k, p in enumerate(pts, start=1):
        ax.annotate(str(k), (p.x, p.y), xytext=(4, 4), textcoords="offset points", color="#c00000", fontsize=9)
    ax.set_title(f"refused: {error.layer or 'input'} — {len(pts)} place(s), numbered as in the message")
    ax.set_axis_off()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
