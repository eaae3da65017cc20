"""Supervision tests reuse the small published city of the case tests (two communities, four grids) and its keys."""

from __future__ import annotations

from tests.cases.conftest import city, client, keys, media_dir  # noqa: F401  (fixtures)
