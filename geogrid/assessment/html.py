"""The bulletin as a printable HTML page (A4, no scripts, no external assets): totals, discovery by channel,
satisfaction, the red and black lists, units, grid tiers, people and patrol compliance."""

from __future__ import annotations

from html import escape

CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif; margin: 2em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.4em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: right; } th { background: #eee; }
td:first-child, th:first-child { text-align: left; }
.red th { background: #f4c7c3; } .black th { background: #ccc; } .meta { color: #555; }
@media print { body { margin: 1cm; } h2 { page-break-after: avoid; } table { page-break-inside: avoid; } }
@page { size: A4; margin: 1.5cm; }
"""


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 else f"{value:.2f}"
    return escape(str(value))


def _table(headers: list[str], rows: list[list], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body or ""}</tbody></table>'


def _name(row: dict) -> str:
    group = row.get("group")
    return group.get("name") or group.get("code") or str(group.get("id")) if isinstance(group, dict) else str(group)


UNIT_COLUMNS = ("due", "closed", "closed_on_time", "close_rate", "on_time_rate", "extension_rate", "satisfaction")


def _unit_rows(rows: list[dict]) -> list[list]:
    return [[row.get("rank"), _name(row), *[row.get(k) for k in UNIT_COLUMNS]] for row in rows]


def render(b: dict) -> str:
    """The whole page."""
    labels = b["labels"]
    unit_head = ["名次", "单位", *[labels.get(k, k) for k in UNIT_COLUMNS]]
    t, d, s = b["totals"], b["discovery"], b["satisfaction"]
    sections = [
        f"<h1>{escape(b['month'])} 网格化管理工作月度通报</h1>",
        f'<p class="meta">{escape(b["from"][:10])} 至 {escape(b["to"][:10])}（{escape(b["timezone"])}）</p>',
        "<h2>总体情况</h2>",
        _table([labels[k] for k in ("accepted", "filed", "due", "closed", "closed_on_time", "close_rate",
                                    "on_time_rate", "on_spot")],
               [[t.get(k) for k in ("accepted", "filed", "due", "closed", "closed_on_time", "close_rate",
                                    "on_time_rate", "on_spot")]]),
        "<h2>问题发现（按渠道）</h2>",
        _table([*[labels.get(c, c) for c in d["by_channel"]], "合计", "发现率"],
               [[*d["by_channel"].values(), d["total"], d["discovery_rate"]]]),
        "<h2>群众满意度</h2>",
        _table(["评价数", "平均分", *[f"{k}分" for k in s["distribution"]]],
               [[s["count"], s["mean"], *s["distribution"].values()]]),
        "<h2>红榜</h2>", _table(unit_head, _unit_rows(b["ranking"]["red"]), "red"),
        "<h2>黑榜</h2>", _table(unit_head, _unit_rows(b["ranking"]["black"]), "black"),
        f'<p class="meta">排名规则：{escape(b["ranking"]["rule"])}</p>',
        "<h2>各单位</h2>", _table(unit_head, _unit_rows(b["units"])),
        "<h2>各等级网格</h2>",
        _table(["等级", *[labels[k] for k in ("due", "closed", "on_time_rate", "on_spot")]],
               [[r["group"], r["due"], r["closed"], r["on_time_rate"], r["on_spot"]] for r in b["tiers"]]),
        "<h2>网格员</h2>",
        _table(["人员", "账号", "上报", "当场处置", "巡查次数", "巡查网格数"],
               [[p["person"], p["account"], p["reports"], p["on_spot"], p["patrols"], p["grids_patrolled"]]
                for p in b["people"]]),
        f"<h2>网格巡查（每周不少于{b['patrols'].get('required_per_week', 3)}次）</h2>",
        _table(["网格", "等级", "巡查次数", "达标周数"],
               [[g["grid_code"], g["tier"], g["patrols"], f"{g['compliant_weeks']}/{len(b['patrols']['weeks'])}"]
                for g in b["patrols"]["grids"]]),
    ]  # fmt: skip
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(b['month'])} 月度通报</title><style>{CSS}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>"
    )
