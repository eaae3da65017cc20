"""Partition configuration: per-tier patrol diameter and target area, or a target grid count (TOML or YAML).

Example (TOML)::

    target_count = 40            # optional: overrides the per-tier target areas
    community_code = "520199001001"   # code prefix when no --communities are given
    [tiers.A]
    max_diameter_m = 1500
    target_area_km2 = [0.3, 0.7]  # range; the middle is the target
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

TIERS = ("A", "B", "C")
AREA_HEADROOM = 1.3
"""A grid may grow to this multiple of its tier's target before it counts as too large (max/mean target 1.3)."""


class ConfigError(ValueError):
    """A configuration that is malformed or whose limits cannot be met; the message names the key."""


@dataclass(frozen=True)
class TierSpec:
    max_diameter_m: float
    min_area_m2: float
    max_area_m2: float

    @property
    def target_area_m2(self) -> float:
        return (self.min_area_m2 + self.max_area_m2) / 2.0


DEFAULT_TIERS = {
    "A": TierSpec(1500.0, 0.3e6, 0.7e6),
    "B": TierSpec(3000.0, 0.8e6, 2.0e6),
    "C": TierSpec(5000.0, 2.0e6, 5.0e6),
}
"""Foot patrol ≤ 1.5 km in the core, ≤ 3 km in residential/suburban areas, vehicle patrol ≤ 5 km (see DOMAIN)."""


@dataclass
class PartitionConfig:
    tiers: dict[str, TierSpec] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    target_count: int | None = None
    """Total number of grids wanted; sets one target area for every tier (diameter caps still hold)."""
    community_code: str = "000000000000"
    """12-digit code prefix used when no communities are given (or for land outside every community)."""
    community_code_field: str | None = None
    tier_field: str = "tier"
    half_widths: dict[int, float] = field(default_factory=dict)
    """Override of the artefact half-width per road class (1 main, 2 secondary, 3 local), metres."""
    seed: int = 0
    refine_passes: int = 10

    def target_area_of(self, tier: str, total_area_m2: float) -> float:
        """Target grid area (m²) of ``tier``: the middle of its range, or the boundary area / ``target_count``."""
        if self.target_count is not None:
            return total_area_m2 / self.target_count
        return self.tiers[tier].target_area_m2

    def high_area_of(self, tier: str, total_area_m2: float) -> float:
        """Largest area (m²) a grid of ``tier`` should reach: its range's top, at least the target × headroom."""
        return max(self.tiers[tier].max_area_m2, AREA_HEADROOM * self.target_area_of(tier, total_area_m2))

    def low_ratio(self, tier: str) -> float:
        """Smallest grid size of ``tier`` in units of its target (the range's bottom / its middle)."""
        spec = self.tiers[tier]
        return spec.min_area_m2 / spec.target_area_m2

    def high_ratio(self, tier: str) -> float:
        """Largest grid size of ``tier`` in units of its target (the range's top, at least the headroom)."""
        spec = self.tiers[tier]
        return max(spec.max_area_m2 / spec.target_area_m2, AREA_HEADROOM)

    def validate(self) -> PartitionConfig:
        for name, spec in self.tiers.items():
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
        if self.target_count is not None and self.target_count < 1:
            raise ConfigError(f"target_count: must be ≥ 1, got {self.target_count}")
        if len(self.community_code) != 12 or not self.community_code.isdigit():
            raise ConfigError(f"community_code: must be 12 digits, got {self.community_code!r}")
        return self


def config_from_dict(data: dict, source: str = "config") -> PartitionConfig:
    """Build and validate a config from a parsed TOML/YAML mapping; unknown keys are errors (typos must not pass)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: top level must be a mapping")
    known = {"tiers", "target_count", "community_code", "community_code_field", "tier_field", "half_widths", "seed"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    cfg = PartitionConfig()
    tiers = dict(cfg.tiers)
    for name, spec in (data.get("tiers") or {}).items():
        name = str(name).upper()
        if name not in TIERS:
            raise ConfigError(f"{source}: tiers.{name}: unknown tier (expected A, B or C)")
        base = tiers[name]
        extra = set(spec) - {"max_diameter_m", "target_area_km2", "target_area_m2"}
        if extra:
            raise ConfigError(f"{source}: tiers.{name}: unknown key(s) {', '.join(sorted(extra))}")
        lo, hi = base.min_area_m2, base.max_area_m2
        if "target_area_km2" in spec or "target_area_m2" in spec:
            key = "target_area_km2" if "target_area_km2" in spec else "target_area_m2"
            scale = 1e6 if key == "target_area_km2" else 1.0
            value = spec[key]
            try:
                lo, hi = (
                    (float(value[0]) * scale, float(value[1]) * scale)
                    if isinstance(value, list)
                    else (
                        float(value) * scale * 0.8,
                        float(value) * scale * 1.2,
                    )
                )
            except (TypeError, ValueError, IndexError) as exc:
                raise ConfigError(f"{source}: tiers.{name}.{key}: expected a number or [min, max]") from exc
        try:
            diam = float(spec.get("max_diameter_m", base.max_diameter_m))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: tiers.{name}.max_diameter_m: expected a number") from exc
        tiers[name] = TierSpec(diam, lo, hi)
    cfg.tiers = tiers
    if data.get("target_count") is not None:
        cfg.target_count = int(data["target_count"])
    for key in ("community_code", "community_code_field", "tier_field"):
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
