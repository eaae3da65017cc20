"""The partition engine's error: bad input or limits that cannot be met, with a message naming the cause."""

from __future__ import annotations


class PartitionError(ValueError):
    """Raised instead of ever returning a partial plan."""
