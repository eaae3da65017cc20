"""Plan validation: geometry repair on the way in, and the topology report (gaps, overlaps, border crossings,
coverage) that decides whether a plan may be published."""

from geogrid.validation.checks import Tolerances
from geogrid.validation.repair import repair_polygonal
from geogrid.validation.report import build_report, find_plan, validate_plan

__all__ = ["Tolerances", "build_report", "find_plan", "repair_polygonal", "validate_plan"]
