"""End to end in headless chromium: load /map/, click a grid, locate a point, switch plan versions, screenshot."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from matplotlib.image import imread

from geogrid.crs import wgs84_to_gcj02
from tests.maps.conftest import PHONE, ROOT, MapStore

SCRIPT = Path(__file__).with_name("browser_e2e.mjs")


def chromium() -> str:
    found = os.environ.get("GEOGRID_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is missing: run scripts/setup_web.sh"
    assert (ROOT / "web" / "node_modules" / "playwright-core").exists(), "run scripts/setup_web.sh"
    return found


def test_planner_map_in_a_real_browser(map_store: MapStore, live_server: str, tmp_path: Path) -> None:
    click_code = list(map_store.cells)[0]  # south-west cell (长春社区), the one with a 网格长
    click = map_store.cells[click_code].centroid
    locate_code = list(map_store.cells)[2]  # the east cell of the lower row, in 球场社区
    target = map_store.cells[locate_code].centroid
    glon, glat = wgs84_to_gcj02(target.x, target.y)
    screenshot = tmp_path / "map.png"
    plan = {
        "base": live_server,
        "chromium": chromium(),
        "screenshot": str(screenshot),
        "click": {"lon": click.x, "lat": click.y, "code": click_code},
        "locate": {"lon": round(float(glon), 7), "lat": round(float(glat), 7), "crs": "gcj02"},
        "switchTo": f"plan.{map_store.published}",
    }
    run = subprocess.run(["node", str(SCRIPT), json.dumps(plan)], capture_output=True, text=True, timeout=180, cwd=ROOT)
    report = json.loads(run.stdout or "{}")
    assert run.returncode == 0, f"{report.get('error')}\n{report.get('console')}\n{run.stderr[-2000:]}"

    assert report["collection"] == "grids.unit"
    assert map_store.published in report["metrics"] and "缝隙面积" in report["metrics"]
    assert "gaps_m2" not in report["metrics"]  # readable names, not the report's keys
    info = report["gridInfo"]
    assert click_code in info and "长春社区" in info and "大智街道" in info
    assert "江岸区城管执法大队" in info and "网格长" in info and PHONE not in info
    assert locate_code in report["locateResult"] and "球场社区" in report["locateResult"]
    assert "v1" in report["metricsAfterSwitch"] and "已发布" in report["metricsAfterSwitch"]
    assert not [m for m in report["console"] if m.startswith("pageerror")], report["console"]

    image = imread(screenshot)[..., :3]
    assert image.shape[0] >= 700 and image.shape[1] >= 1200
    mapped = image[:, 400:]  # right of the side panel
    reddish = (mapped[..., 0] - mapped[..., 1] > 0.2) & (mapped[..., 0] > 0.6)  # tier A fill
    greenish = (mapped[..., 1] - mapped[..., 0] > 0.05) & (mapped[..., 1] - mapped[..., 2] > 0.1)  # tier C fill
    assert reddish.mean() > 0.01 and greenish.mean() > 0.01
