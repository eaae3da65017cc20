"""GDAL's command-line tools (Debian gdal-bin, installed by scripts/setup.sh) read the demo over OGC API – Features."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyogrio


def run(*args: str) -> str:
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ogrinfo_lists_and_describes_every_layer(demo_server: str) -> None:
    listing = run("ogrinfo", "-ro", "-q", f"OAPIF:{demo_server}")
    for layer in ("grids.responsibility", "admin.community", "admin.street", "admin.district"):
        assert layer in listing
    info = run("ogrinfo", "-ro", "-so", f"OAPIF:{demo_server}", "grids.responsibility")
    assert "Feature Count: 32" in info and "Multi Polygon" in info and "community_name: String" in info


def test_ogrinfo_pushes_an_attribute_filter_to_the_server(demo_server: str) -> None:
    out = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-q", f"OAPIF:{demo_server}", "grids.responsibility", "-where", "tier = 'A'",
         "--config", "CPL_DEBUG", "ON"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "filter=" in out.stderr and "client side" not in out.stderr  # evaluated by the API, not by GDAL
    tiers = [line.split("=")[-1].strip() for line in out.stdout.splitlines() if line.strip().startswith("tier (")]
    assert tiers and set(tiers) == {"A"}


def test_ogr2ogr_copies_layers_into_a_geopackage(demo_server: str, tmp_path: Path) -> None:
    out = tmp_path / "copy.gpkg"
    run("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{demo_server}", "grids.responsibility", "admin.community")
    grids = pyogrio.read_dataframe(out, layer="grids.responsibility")
    assert len(grids) == 32 and set(grids["tier"]) <= {"A", "B", "C"} and grids.geometry.is_valid.all()
    assert len(pyogrio.read_dataframe(out, layer="admin.community")) == 16
