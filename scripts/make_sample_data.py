"""Write the demo's sample boundaries (data/boundaries/demo_*.geojson) from the seeded synthetic district.

Why a script: the committed files must be reproducible bit for bit from ``geogrid.demo.district`` (seed, size, origin
below); the demo regenerates the roads from the same seed instead of committing them.

- ``demo_district.geojson`` and ``demo_communities.geojson``: CGCS2000, EPSG:4490 declared in the file.
- ``demo_streets.geojson``: **GCJ-02 with no CRS declared**, like boundary files from web-map platforms, so the
  import path's ``--crs gcj02`` conversion is exercised; read it with ``io.read_vector(path, crs="gcj02")``.

Usage: ``python scripts/make_sample_data.py [OUT_DIR]`` (default: data/boundaries next to this script's repo).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geogrid import crs as gcrs
from geogrid.demo.district import SMALL_AREA_KM2, small_district

SEED = 2024
"""The demo district's seed; ``geogrid.demo.district.small_district(seed=SEED)`` regenerates its roads."""
PRECISION = 7  # decimal degrees: ~1 cm, keeps the files small


def _to_gcj02(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    def shift(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcrs.wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    moved = shapely.transform(np.asarray(gdf.geometry.values), shift)
    return gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=moved, crs=None)


def write_sample(out_dir: Path, seed: int = SEED) -> dict[str, Path]:
    """Generate the small district and write the three boundary files; returns name → path."""
    district = small_district(seed=seed).to_store()
    out_dir.mkdir(parents=True, exist_ok=True)
    opts = {"driver": "GeoJSON", "COORDINATE_PRECISION": PRECISION, "WRITE_NAME": "NO"}
    paths = {
        "district": out_dir / "demo_district.geojson",
        "streets": out_dir / "demo_streets.geojson",
        "communities": out_dir / "demo_communities.geojson",
    }
    for path in paths.values():
        path.unlink(missing_ok=True)
    district.boundary.to_file(paths["district"], **opts)
    district.communities.to_file(paths["communities"], **opts)
    with warnings.catch_warnings():  # the missing CRS is the point of this file
        warnings.filterwarnings("ignore", message=".*crs.*not provided", category=UserWarning)
        _to_gcj02(district.streets).to_file(paths["streets"], **opts)
    return paths


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / "data" / "boundaries"
    for name, path in write_sample(out).items():
        print(f"{name:12s} {path} ({path.stat().st_size:,} bytes)")
    print(f"synthetic {SMALL_AREA_KM2:g} km² district; roads: geogrid.demo.district.small_district(seed={SEED})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
