"""Write a partition: GeoPackage layers ``grids`` and ``blocks``, the JSON report, and the PNG map."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd

from geogrid.partition.engine import PartitionResult

TIER_COLOURS = {"A": "#e4572e", "B": "#f3a712", "C": "#76b041"}


def write_gpkg(result: PartitionResult, path: str | Path) -> None:
    """Overwrite ``path`` with layers ``grids`` and ``blocks`` (EPSG:4490)."""
    path = Path(path)
    if path.exists():
        path.unlink()
    grids = result.grids.copy()
    grids["n_blocks"] = grids["n_blocks"].astype("int64")
    grids.to_file(path, layer="grids", driver="GPKG")
    result.blocks.to_file(path, layer="blocks", driver="GPKG", mode="a")


def write_report(result: PartitionResult, path: str | Path) -> None:
    Path(path).write_text(json.dumps(result.report, ensure_ascii=False, indent=2), encoding="utf-8")


def write_map(result: PartitionResult, path: str | Path, roads: gpd.GeoDataFrame | None = None) -> None:
    """Grids coloured by tier, grid borders, and the road centrelines on top (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    metric = result.report.get("metric_crs")
    grids = result.grids.to_crs(metric) if metric else result.grids
    fig, ax = plt.subplots(figsize=(10, 10))
    colours = grids["tier"].map(TIER_COLOURS).fillna("#cccccc")
    grids.plot(ax=ax, color=colours, alpha=0.55, edgecolor="black", linewidth=0.8)
    lines = result.centerlines if roads is None else roads
    if lines is not None and len(lines):
        (lines.to_crs(metric) if metric else lines).plot(ax=ax, color="#333333", linewidth=0.3)
    handles = [Patch(color=c, label=f"tier {t}") for t, c in TIER_COLOURS.items() if (grids["tier"] == t).any()]
    ax.legend(handles=handles, loc="lower right")
    ax.set_title(f"{len(grids)} grids")
    ax.set_axis_off()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
