"""The workbench in a real browser (Debian chromium via playwright-core): draft, move, lasso, merge, split, undo,
compare, impact, publish, locate, and the 420 px layout; the screenshots are checked for what they must show.

Set GEOGRID_SCREENSHOTS=DIR to keep the screenshots for a look.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
from matplotlib.image import imread

from geogrid.crs import wgs84_to_gcj02
from geogrid.store.db import session_scope
from tests.maps.test_browser import chromium
from tests.planner.conftest import EAST, PUBLISHED, WEST, build_checkerboard, lonlat, seed_case
from tests.serving import ROOT, uvicorn_server

SCRIPT = Path(__file__).with_name("workbench_e2e.mjs")
DRAFT = "棋盘-草案"
NOTE = "2027 年度调整：长春社区一号网格让出东南地块"


def _plan(base: str, key: str, shots: Path) -> dict:
    glon, glat = wgs84_to_gcj02(*lonlat(500_450, 3_380_350))
    return {
        "base": base,
        "chromium": chromium(),
        "key": key,
        "screenshots": str(shots),
        "published": PUBLISHED,
        "draft": DRAFT,
        "block": lonlat(500_150, 3_380_250),  # west 001's south-east block, next to west 002
        "target": f"{WEST}002",
        "lasso": [
            lonlat(500_010, 3_380_110),
            lonlat(500_195, 3_380_110),
            lonlat(500_195, 3_380_190),
            lonlat(500_010, 3_380_190),
        ],
        "lassoBlocks": 2,
        "merge": [lonlat(500_100, 3_380_100), lonlat(500_300, 3_380_100)],  # west 003 + west 004
        "split": [lonlat(500_430, 3_379_960), lonlat(500_570, 3_380_240)],  # across east 002, through its blocks
        "note": NOTE,
        "otherGrid": lonlat(500_100, 3_380_300),
        "otherCode": f"{WEST}001",
        "locate": [round(float(glon), 7), round(float(glat), 7)],
        "locateCode": f"{EAST}001",
    }


def _share(image: np.ndarray, test) -> float:
    return float(test(image[..., 0], image[..., 1], image[..., 2]).mean())


def test_workbench_in_a_real_browser(store_url: str, tmp_path: Path) -> None:
    board = build_checkerboard(store_url)
    with session_scope(store_url) as s:
        case = seed_case(s, *lonlat(500_150, 3_380_250), f"{WEST}001")
    shots = Path(os.environ.get("GEOGRID_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with uvicorn_server(store_url, tmp_path / "uvicorn.log") as base:
        plan = _plan(base, board.planner_key, shots)
        run = subprocess.run(
            ["node", str(SCRIPT), json.dumps(plan)], capture_output=True, text=True, timeout=300, cwd=ROOT
        )
    report = json.loads(run.stdout or "{}")
    assert run.returncode == 0, (
        f"{report.get('error')}\n{report.get('steps')}\n{report.get('console')}\n{run.stderr[-2000:]}"
    )
    assert not [m for m in report["console"] if m.startswith("pageerror")], report["console"]
    t = report["text"]

    assert "校验 · 缝隙面积 (m²)\t0" in t["metrics"] and "_m2" not in t["metrics"] and "summary" not in t["metrics"]
    assert "面积离散系数" in t["checksAtCopy"] and "网格数\t6" in t["checksAtCopy"]
    assert "覆盖率\t100.000%" in t["checksAtCopy"]
    assert "移交地块完成" in t["afterMove"] and f"{WEST}002" in t["afterMove"]
    assert "可以发布" in t["checksAfterMove"] and "跨社区\t无" in t["checksAfterMove"]
    assert "已选 2 个地块" in t["lasso"]
    assert f"{WEST}003 + {WEST}004" in t["mergePick"] and f"删除 {WEST}004" in t["afterMerge"]
    assert "分割完成" in t["afterSplit"] and report["gridsAfterSplit"] == "6" and report["gridsAfterUndo"] == "5"
    assert "撤销" in t["journal"] and "(已撤销)" in t["journal"]
    assert "被拒绝" in t["recodeRefused"] and "west→east" in t["recodeRefused"]
    assert "A 级（1 个）" in t["afterSet"] and "B 级（2 个）" in t["afterSet"]  # west 002 moved from A to B
    assert "删除 1" in t["compare"] and "调整 3" in t["compare"]
    assert f"{WEST}001\t{WEST}002" in t["lineage"]
    assert f"案件 {case}" in t["impact"] and f"{WEST}001 → {WEST}002" in t["impact"]
    assert "已发布" in t["published"] and NOTE in t["history"]
    assert f"{EAST}001" in t["gridAfterLocate"] and f"{WEST}001" not in t["gridAfterLocate"].split("\n")[0]

    narrow = report["narrow"]
    assert narrow["scrollWidth"] <= 420 and narrow["map"]["width"] <= 420 and narrow["panel"]["width"] <= 420
    assert narrow["map"]["height"] >= 300 and narrow["panel"]["y"] >= narrow["map"]["y"] + narrow["map"]["height"] - 1

    move = imread(shots / "1-move.png")[..., :3]
    selected_blue = _share(move[:, 380:], lambda r, g, b: (b - r > 0.25) & (b > 0.5))
    assert _share(move[:, 380:], lambda r, g, b: (r - g > 0.2) & (r > 0.6)) > 0.01  # tier A fill
    assert selected_blue < 0.002  # the selection is cleared after the move
    compare = imread(shots / "4-compare.png")[..., :3]
    magenta = _share(compare[:, 380:], lambda r, g, b: (r > 0.6) & (b > 0.35) & (g < 0.3))
    assert magenta > 0.001  # changed grids outlined on the maps
    lasso = imread(shots / "2-lasso.png")[..., :3]
    assert _share(lasso[:, 380:], lambda r, g, b: (b - r > 0.2) & (b > 0.45)) > 0.003  # lassoed blocks in blue
    phone = imread(shots / "7-narrow.png")[..., :3]
    assert phone.shape[1] == 420 and _share(phone[:400], lambda r, g, b: (r - g > 0.2) & (r > 0.6)) > 0.01
