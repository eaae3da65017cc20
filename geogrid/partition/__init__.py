"""The partition engine: road network → blocks → tiered management grids (see ``engine``)."""

from geogrid.partition.engine import PartitionResult, partition
from geogrid.partition.errors import PartitionError

__all__ = ["PartitionError", "PartitionResult", "partition"]
