"""Partition configuration (TOML or YAML): purpose preset, what to balance, per-tier limits and targets.

Example (TOML)::

    preset = "patrol"            # patrol grids (城管/责任网格, default) or "social" (社会治理网格)
    target_count = 40            # optional: overrides the per-tier targets
    community_code = "520199001001"   # code prefix when no --communities are given
    [balance]
    by = "both"                  # "area", "weight" (workload) or "both"
    floor_area_per_unit = 100    # building polygons: m² of floor area per weight unit (100 ≈ a household)
    [tiers.A]
    max_diameter_m = 1500
    target_area_km2 = [0.3, 0.7] # range; the middle is the target
    target_weight = [300, 500]   # in weight units (households, people, cases…)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

TIERS = ("A", "B", "C")
AREA_HEADROOM = 1.3
"""A grid may grow to this multiple of its tier's target before it counts as too large (max/mean target 1.3)."""
BALANCE_MODES = ("area", "weight", "both")


class ConfigError(ValueError):
    """A configuration that is malformed or whose limits cannot be met; the message names the key."""


@dataclass(frozen=True)
class TierSpec:
    max_diameter_m: float
    min_area_m2: float
    max_area_m2: float
    min_weight: float | None = None
    max_weight: float | None = None
    """Workload range per grid (weight units); None: derived from the area range and the workload density."""

    @property
    def target_area_m2(self) -> float:
        return (self.min_area_m2 + self.max_area_m2) / 2.0

    @property
    def target_weight(self) -> float | None:
        return None if self.min_weight is None else (self.min_weight + self.max_weight) / 2.0


DEFAULT_TIERS = {
    "A": TierSpec(1500.0, 0.3e6, 0.7e6),
    "B": TierSpec(3000.0, 0.8e6, 2.0e6),
    "C": TierSpec(5000.0, 2.0e6, 5.0e6),
}
"""Foot patrol ≤ 1.5 km in the core, ≤ 3 km in residential/suburban areas, vehicle patrol ≤ 5 km (see DOMAIN)."""

SOCIAL_HOUSEHOLDS = (300.0, 500.0)
"""社会治理网格: 300–500 households per grid, inside one community."""
M2_PER_HOUSEHOLD = 100.0
"""Floor area per household: 2020 census, 36.5 m² per urban resident × 2.62 persons per household ≈ 96 m²."""


@dataclass
class PartitionConfig:
    tiers: dict[str, TierSpec] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    target_count: int | None = None
    """Total number of grids wanted; sets one target size for every tier (diameter caps still hold)."""
    community_code: str = "000000000000"
    """12-digit code prefix used when no communities are given."""
    community_code_field: str | None = None
    tier_field: str = "tier"
    half_widths: dict[int, float] = field(default_factory=dict)
    """Override of the artefact half-width per road class (1 main, 2 secondary, 3 local), metres."""
    seed: int = 0
    preset: str = "patrol"
    balance: str = "area"
    """What grids are balanced on: "area", "weight" (workload: needs weights) or "both" (their average)."""
    floor_area_per_unit: float = 1.0
    """Building polygons weigh footprint × floors / this (1: m² of floor area; 100: about a household)."""
    needs_communities: bool = False
    """Refuse to run without a community layer (social-governance grids live inside one community)."""
    offset_check: str = "error"
    """A boundary that lines up with the roads clearly better after a GCJ-02/BD-09 shift: "error", "warn", "off"."""
    repair_communities: bool = False
    """Overlapping communities and gaps between them: refused (False) or assigned to a neighbour and reported."""
    outside_code: str | None = None
    """12-digit code for land outside every community (None: such land is refused)."""

    def target_area_of(self, tier: str, total_area_m2: float) -> float:
        """Target grid area (m²) of ``tier``: the middle of its range, or the boundary area / ``target_count``."""
        if self.target_count is not None:
            return total_area_m2 / self.target_count
        return self.tiers[tier].target_area_m2

    def high_area_of(self, tier: str, total_area_m2: float) -> float:
        """Largest area (m²) a grid of ``tier`` should reach: its range's top, at least the target × headroom."""
        return max(self.tiers[tier].max_area_m2, AREA_HEADROOM * self.target_area_of(tier, total_area_m2))

    def _range(self, tier: str) -> tuple[float, float]:
        spec = self.tiers[tier]
        if self.balance == "weight" and spec.min_weight is not None:
            return spec.min_weight / spec.target_weight, spec.max_weight / spec.target_weight
        return spec.min_area_m2 / spec.target_area_m2, spec.max_area_m2 / spec.target_area_m2

    def low_ratio(self, tier: str) -> float:
        """Smallest grid size of ``tier`` in units of its target (the range's bottom / its middle)."""
        return self._range(tier)[0]

    def high_ratio(self, tier: str) -> float:
        """Largest grid size of ``tier`` in units of its target (the range's top, at least the headroom)."""
        return max(self._range(tier)[1], AREA_HEADROOM)

    def validate(self) -> PartitionConfig:
        for name, spec in self.tiers.items():
            _check_tier(name, spec)
        if self.target_count is not None and self.target_count < 1:
            raise ConfigError(f"target_count: must be ≥ 1, got {self.target_count}")
        for key in ("community_code", "outside_code"):
            value = getattr(self, key)
            if value is not None and (len(value) != 12 or not value.isdigit()):
                raise ConfigError(f"{key}: must be 12 digits, got {value!r}")
        if self.offset_check not in ("error", "warn", "off"):
            raise ConfigError(f"offset_check: one of error, warn, off; got {self.offset_check!r}")
        if self.balance not in BALANCE_MODES:
            raise ConfigError(f"balance.by: one of {', '.join(BALANCE_MODES)}; got {self.balance!r}")
        if not self.floor_area_per_unit > 0:
            raise ConfigError(f"balance.floor_area_per_unit: must be > 0, got {self.floor_area_per_unit}")
        return self


def _check_tier(name: str, spec: TierSpec) -> None:
    if name not in TIERS:
        raise ConfigError(f"tiers.{name}: unknown tier (expected one of {', '.join(TIERS)})")
    if not spec.max_diameter_m >= 50:
        raise ConfigError(f"tiers.{name}.max_diameter_m: {spec.max_diameter_m} m cannot be met (minimum 50 m)")
    if not 0 < spec.min_area_m2 <= spec.max_area_m2:
        raise ConfigError(f"tiers.{name}.target_area_km2: range must be positive and ordered")
    # a square of the target area must fit under the cap
    if spec.min_area_m2 > spec.max_diameter_m**2 / 2.0:
        raise ConfigError(
            f"tiers.{name}: minimum area {spec.min_area_m2 / 1e6:g} km² cannot fit within a patrol diameter "
            f"of {spec.max_diameter_m:g} m (at most ≈ {spec.max_diameter_m**2 / 2e6:.2f} km² as a square)"
        )
    if spec.min_weight is not None and not 0 < spec.min_weight <= spec.max_weight:
        raise ConfigError(f"tiers.{name}.target_weight: range must be positive and ordered")


def preset_config(name: str) -> PartitionConfig:
    """The starting configuration of a grid purpose: ``patrol`` (城管/责任网格) or ``social`` (社会治理网格)."""
    if name == "patrol":
        return PartitionConfig()
    if name == "social":
        lo, hi = SOCIAL_HOUSEHOLDS
        tiers = {t: replace(s, min_weight=lo, max_weight=hi) for t, s in DEFAULT_TIERS.items()}
        return PartitionConfig(
            tiers=tiers,
            preset="social",
            balance="weight",
            floor_area_per_unit=M2_PER_HOUSEHOLD,
            needs_communities=True,
        )
    raise ConfigError(f"preset: one of patrol, social; got {name!r}")


def _range_value(value, scale: float, where: str) -> tuple[float, float]:
    """A [min, max] list, or one number taken as the middle of a ±20 % range."""
    try:
        if isinstance(value, list):
            return float(value[0]) * scale, float(value[1]) * scale
        return float(value) * scale * 0.8, float(value) * scale * 1.2
    except (TypeError, ValueError, IndexError) as exc:
        raise ConfigError(f"{where}: expected a number or [min, max]") from exc


def _tier_from(name: str, spec: dict, base: TierSpec, source: str) -> TierSpec:
    extra = set(spec) - {"max_diameter_m", "target_area_km2", "target_area_m2", "target_weight"}
    if extra:
        raise ConfigError(f"{source}: tiers.{name}: unknown key(s) {', '.join(sorted(extra))}")
    lo, hi = base.min_area_m2, base.max_area_m2
    for key, scale in (("target_area_km2", 1e6), ("target_area_m2", 1.0)):
        if key in spec:
            lo, hi = _range_value(spec[key], scale, f"{source}: tiers.{name}.{key}")
    wlo, whi = base.min_weight, base.max_weight
    if "target_weight" in spec:
        wlo, whi = _range_value(spec["target_weight"], 1.0, f"{source}: tiers.{name}.target_weight")
    try:
        diam = float(spec.get("max_diameter_m", base.max_diameter_m))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: tiers.{name}.max_diameter_m: expected a number") from exc
    return TierSpec(diam, lo, hi, wlo, whi)


KNOWN_KEYS = {
    "preset",
    "balance",
    "tiers",
    "target_count",
    "community_code",
    "community_code_field",
    "tier_field",
    "half_widths",
    "seed",
    "offset_check",
}


def config_from_dict(data: dict, source: str = "config") -> PartitionConfig:
    """Build and validate a config from a parsed TOML/YAML mapping; unknown keys are errors (typos must not pass)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: top level must be a mapping")
    unknown = set(data) - KNOWN_KEYS
    if unknown:
        known = ", ".join(sorted(KNOWN_KEYS))
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}; known: {known}")
    try:
        cfg = preset_config(str(data.get("preset", "patrol")))
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    tiers = dict(cfg.tiers)
    for name, spec in (data.get("tiers") or {}).items():
        name = str(name).upper()
        if name not in TIERS:
            raise ConfigError(f"{source}: tiers.{name}: unknown tier (expected A, B or C)")
        tiers[name] = _tier_from(name, spec or {}, tiers[name], source)
    cfg.tiers = tiers
    balance = data.get("balance") or {}
    extra = set(balance) - {"by", "floor_area_per_unit"}
    if extra:
        raise ConfigError(
            f"{source}: balance: unknown key(s) {', '.join(sorted(extra))} (known: by, floor_area_per_unit)"
        )
    cfg.balance = str(balance.get("by", cfg.balance))
    cfg.floor_area_per_unit = float(balance.get("floor_area_per_unit", cfg.floor_area_per_unit))
    if data.get("target_count") is not None:
        cfg.target_count = int(data["target_count"])
    for key in ("community_code", "community_code_field", "tier_field", "offset_check"):
        if data.get(key) is not None:
            setattr(cfg, key, str(data[key]))
    if data.get("half_widths"):
        cfg.half_widths = {int(k): float(v) for k, v in data["half_widths"].items()}
    if data.get("seed") is not None:
        cfg.seed = int(data["seed"])
    try:
        return cfg.validate()
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc


def load_config(path: str | Path) -> PartitionConfig:
    """Read a ``.toml`` or ``.yaml``/``.yml`` file; errors name the file."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        elif path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            raise ConfigError(f"{path}: unknown config format (use .toml or .yaml)")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot parse ({exc})") from exc
    return config_from_dict(data, str(path))
