"""``geogrid partition``: roads + boundary (+ communities, tier zones, barriers, units, excluded land, workload)
→ grids GeoPackage, JSON report, PNG map.

Every input is ``FILE`` or ``FILE:LAYER`` and has its own CRS option (``--crs`` is only the default for all of
them), because real inputs mix systems: OSM roads in WGS84, a district boundary from a web map in GCJ-02, a
community layer in CGCS2000 Gauss-Krüger. Bad input exits non-zero with a message naming the file, the place and
the fix; with ``--map`` the refused places are drawn.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from geogrid.cli.common import check_writable, fail

LAYERS = ("boundary", "communities", "tier_zones", "barriers", "units", "exclude")
SOURCE = "FILE or FILE:LAYER (a GeoPackage layer). 文件或 文件:图层。"
CRS_HELP = "CRS of {} when undeclared or wrong: EPSG:n, wgs84, cgcs2000, gcj02, bd09 (default: --crs). {}坐标系。"


def _config(path: Path | None, preset: str | None, balance: str | None, repair: bool, outside: str | None, declared):
    """The configuration: file (or preset), then the command-line overrides."""
    from geogrid.config import load_config, preset_config

    cfg = load_config(path) if path else preset_config(preset or "patrol")
    if path and preset and preset != cfg.preset:
        cfg = replace(preset_config(preset), **{k: getattr(cfg, k) for k in ("target_count", "community_code")})
    changes = {"repair_communities": repair, "outside_code": outside or cfg.outside_code}
    if balance:
        changes["balance"] = balance
    if declared and cfg.offset_check == "error":
        changes["offset_check"] = "warn"  # the planner declared the boundary's CRS: warn, do not refuse
    return replace(cfg, **changes).validate()


def _read(sources: dict, crs: dict, options: dict, cfg) -> dict:
    """Every input layer in EPSG:4490 (``InputError`` names the file)."""
    from geogrid.io import read_vector
    from geogrid.roads import read_roads
    from geogrid.workload import read_weights

    encoding = options["encoding"]
    out = {
        "roads": read_roads(sources["roads"], crs=crs["roads"], encoding=encoding, class_field=options["class_field"])
    }
    for name in LAYERS:
        if sources.get(name):
            out[name] = read_vector(sources[name], crs=crs[name], encoding=encoding, lonlat_check=True)
    if sources.get("weights"):
        out["weights"] = read_weights(
            sources["weights"],
            crs=crs["weights"],
            encoding=encoding,
            field=options["field"],
            floors_field=options["floors_field"],
            floor_area_per_unit=cfg.floor_area_per_unit,
        )
    return out


def _refused(exc, sources: dict, map_png: Path | None, layers: dict) -> None:
    """Exit with the engine's refusal, naming the file at fault; draw the refused places when a map was asked."""
    from geogrid.partition.output import write_problem_map

    where = f"{sources[exc.layer]}: " if exc.layer in sources and sources[exc.layer] else ""
    if map_png and exc.points:
        write_problem_map(exc, layers, map_png)
        typer.echo(f"map of the refused places: {map_png}", err=True)
    fail(f"cannot partition: {where}{exc}")


def _summary(result, out: Path) -> None:
    rep = result.report
    ib = rep["internal_border"]
    typer.echo(
        f"{rep['grids']} grids from {rep['blocks']} blocks; coverage {rep['coverage']:.4%}; "
        f"PP min {rep['polsby_popper_min']:.2f}; Reock mean {rep['reock_mean']:.2f}; "
        f"internal border on centrelines {ib['within_15m_of_centerline']:.1%}, straight cuts "
        f"{len(ib['straight_cuts'])} ({sum(c['length_m'] for c in ib['straight_cuts']):.0f} m); wrote {out}"
    )
    for tier, row in rep["tiers"].items():
        extra = f", workload CV {row['weight_cv']:.3f}" if "weight_cv" in row else ""
        typer.echo(f"  tier {tier}: {row['grids']} grids, area CV {row['area_cv']:.3f}{extra}")
    if rep.get("holes"):
        area = sum(h["area_m2"] for h in rep["holes"]) / 1e6
        typer.echo(f"  {len(rep['holes'])} hole(s) of the boundary ({area:.3f} km²) kept out of every grid")
    for layer, found in (rep.get("crs_offset") or {}).items():
        typer.echo(
            f"warning: {layer} lines up with the roads better if {found['meaning']} "
            f"({found['offset_m']:.0f} m shift: {found['on_roads_shifted']:.0%} on roads vs "
            f"{found['on_roads_as_given']:.0%} as given)",
            err=True,
        )
    comm = rep.get("communities_check") or {}
    for kind in ("overlaps", "gaps", "outside"):
        if comm.get(kind):
            typer.echo(f"  communities: {len(comm[kind])} {kind} repaired (listed in the report)")


def _load(sources: dict, crss: dict, options: dict, config_args: tuple):
    """The configuration and every input layer; a bad file or config exits with its message."""
    from geogrid.config import ConfigError
    from geogrid.io import InputError

    try:
        cfg = _config(*config_args)
        return cfg, _read(sources, crss, options, cfg)
    except (InputError, ConfigError) as exc:
        fail(str(exc))


def _run(layers: dict, cfg, sources: dict, map_png: Path | None, quiet: bool):
    """The partition, or the engine's refusal (naming the file at fault)."""
    from geogrid.partition import PartitionError, partition

    extra = {k: layers.get(k) for k in ("units", "exclude", "weights")}
    try:
        return partition(
            layers["roads"], layers["boundary"], layers.get("communities"), layers.get("tier_zones"),
            layers.get("barriers"), cfg, progress=not quiet, **extra,
        )  # fmt: skip
    except PartitionError as exc:
        _refused(exc, sources, map_png, layers)


def _write(result, out: Path, report: Path | None, map_png: Path | None, layers: dict) -> None:
    from geogrid.partition.output import write_gpkg, write_map, write_report

    write_gpkg(result, out)
    if report:
        write_report(result, report)
    if map_png:
        write_map(result, map_png, layers)


def _save_plan(result, plan: str, layer: str, roads: str) -> None:
    from geogrid.store.db import session_scope
    from geogrid.store.plans import save_draft_plan

    try:
        with session_scope() as session:
            saved = save_draft_plan(session, result.grids, layer=layer, plan=plan, source=roads, report=result.report)
            from geogrid.planner.roads import attach_roads  # the workbench shows and cuts along them

            attach_roads(session, saved, result.centerlines, source=roads)
            typer.echo(f"saved draft plan {plan!r} (layer {layer!r}, id {getattr(saved, 'id', '?')})")
    except ValueError as exc:
        fail(str(exc))


def _opt(flag: str, help: str, kind=str | None):
    """An optional command-line option, as a type annotation (one line per parameter in the command)."""
    return Annotated[kind, typer.Option(flag, help=help)]


def _crs_opt(layer: str, zh: str):
    return _opt(f"--{layer.replace('_', '-')}-crs", CRS_HELP.format(layer.replace("_", " "), zh))


Roads = Annotated[str, typer.Option("--roads", help="Road network: .osm.pbf, .osm, or a vector " + SOURCE + " 路网。")]
Boundary = Annotated[str, typer.Option("--boundary", help="Jurisdiction polygon(s): " + SOURCE + " 辖区边界。")]
Out = Annotated[Path, typer.Option("--out", help="Output GeoPackage (grids, blocks, straight_cuts). 输出 GeoPackage。")]
Communities = _opt("--communities", "Community polygons (12-digit code). 社区边界（12 位编码）。")
TierZones = _opt("--tier-zones", "Polygons with a 'tier' field (A/B/C). 分级区域。")
Barriers = _opt("--barriers", "Rivers, railways (lines or polygons). 河流、铁路等障碍。")
Units = _opt("--units", "Compounds, parcels, campuses: never cut. 小区、地块、园区（不被切分）。")
Exclude = _opt("--exclude", "Mountain, water: not counted toward sizes. 山体、水面（不计入面积）。")
Weights = _opt("--weights", "Workload: points, buildings or a GeoTIFF. 工作量：点、建筑或人口栅格。")
WeightField = _opt("--weight-field", "Weight per feature (else 1 / area). 权重字段。")
FloorsField = _opt("--floors-field", "Building floors (else guessed). 楼层数字段。")
Config = _opt("--config", "TOML or YAML configuration. 配置文件。", Path | None)
Preset = _opt("--preset", "patrol (城管/责任网格) or social (社会治理网格).")
Balance = _opt("--balance", "Balance grids by area, weight or both. 按面积、工作量或两者均衡。")
Repair = _opt("--repair-communities", "Fix overlaps and gaps. 修复社区重叠与缝隙。", bool)
OutsideCode = _opt("--outside-code", "Code for land in no community. 无社区归属土地的编码。")
Crs = _opt("--crs", "Default CRS of every input (gcj02, EPSG:4545…). 输入坐标系。")
Encoding = _opt("--encoding", "Text encoding of Shapefile attributes. 属性编码。")
ClassField = _opt("--class-field", "Road class field (else OSM highway). 道路等级字段。")
Report = _opt("--report", "Write the plan metrics as JSON. 输出方案指标 JSON。", Path | None)
MapPng = _opt("--map", "Write a PNG map (or of the refused places). 输出 PNG 图。", Path | None)
PlanName = _opt("--plan", "Also save as a draft plan with this name. 同时保存为草案方案。")
Layer = _opt("--layer", "Grid layer of the store the plan belongs to. 方案所属网格图层。", str)
Quiet = _opt("--quiet", "No progress bar. 不显示进度条。", bool)
RoadsCrs, BoundaryCrs, CommunitiesCrs = (
    _crs_opt("roads", "道路"),
    _crs_opt("boundary", "边界"),
    _crs_opt("communities", "社区"),
)
TierZonesCrs, BarriersCrs, UnitsCrs = (
    _crs_opt("tier_zones", "分级区域"),
    _crs_opt("barriers", "障碍"),
    _crs_opt("units", "单元"),
)
ExcludeCrs, WeightsCrs = _crs_opt("exclude", "排除区域"), _crs_opt("weights", "权重")


def register(app: typer.Typer) -> None:
    @app.command("partition")
    def partition_cmd(
        roads: Roads,
        boundary: Boundary,
        out: Out,
        communities: Communities = None,
        tier_zones: TierZones = None,
        barriers: Barriers = None,
        units: Units = None,
        exclude: Exclude = None,
        weights: Weights = None,
        weight_field: WeightField = None,
        floors_field: FloorsField = None,
        config: Config = None,
        preset: Preset = None,
        balance: Balance = None,
        repair_communities: Repair = False,
        outside_code: OutsideCode = None,
        crs: Crs = None,
        roads_crs: RoadsCrs = None,
        boundary_crs: BoundaryCrs = None,
        communities_crs: CommunitiesCrs = None,
        tier_zones_crs: TierZonesCrs = None,
        barriers_crs: BarriersCrs = None,
        units_crs: UnitsCrs = None,
        exclude_crs: ExcludeCrs = None,
        weights_crs: WeightsCrs = None,
        encoding: Encoding = None,
        class_field: ClassField = None,
        report: Report = None,
        map_png: MapPng = None,
        plan: PlanName = None,
        layer: Layer = "grid",
        quiet: Quiet = False,
    ) -> None:
        """Partition a jurisdiction into tiered management grids bounded by road centrelines.
        以道路中心线为界将辖区划分为分级管理网格。
        """
        given = locals()
        for path, option in ((out, "--out"), (report, "--report"), (map_png, "--map")):
            check_writable(path, option)
        sources = {name: given[name] for name in ("roads", *LAYERS, "weights")}
        crss = {name: given[f"{name}_crs"] or crs for name in sources}
        options = {
            "field": weight_field,
            "floors_field": floors_field,
            "encoding": encoding,
            "class_field": class_field,
        }
        declared = crss["boundary"] is not None
        cfg, layers = _load(
            sources, crss, options, (config, preset, balance, repair_communities, outside_code, declared)
        )
        result = _run(layers, cfg, sources, map_png, quiet)
        _write(result, out, report, map_png, layers)
        if plan:
            _save_plan(result, plan, layer, roads)
        _summary(result, out)
