"""A bounded in-process LRU of rendered tiles, keyed by a version stamp that a plan publication bumps."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from hashlib import blake2b


@dataclass(frozen=True)
class CachedTile:
    data: bytes
    etag: str


def etag_for(data: bytes) -> str:
    """A strong ETag from the tile's bytes, so it is the same across restarts and workers."""
    return '"' + blake2b(data, digest_size=12).hexdigest() + '"'


class TileCache:
    """Least-recently-used tiles up to ``max_bytes``; ``bump()`` drops everything and moves to a new stamp."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.stamp = 0
        self._items: OrderedDict[Hashable, CachedTile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> CachedTile | None:
        with self._lock:
            tile = self._items.get((self.stamp, key))
            if tile is None:
                self.misses += 1
                return None
            self._items.move_to_end((self.stamp, key))
            self.hits += 1
            return tile

    def put(self, key: Hashable, data: bytes, stamp: int | None = None) -> CachedTile:
        """Store a tile rendered under ``stamp``; a tile rendered before a bump is returned but not kept."""
        tile = CachedTile(data, etag_for(data))
        with self._lock:
            if stamp is not None and stamp != self.stamp:
                return tile
            full = (self.stamp, key)
            old = self._items.pop(full, None)
            if old is not None:
                self._bytes -= len(old.data)
            self._items[full] = tile
            self._bytes += len(data)
            while self._bytes > self.max_bytes and self._items:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= len(evicted.data)
        return tile

    def bump(self) -> int:
        """Invalidate every tile (a plan was published); returns the new stamp."""
        with self._lock:
            self.stamp += 1
            self._items.clear()
            self._bytes = 0
            return self.stamp

    def __len__(self) -> int:
        return len(self._items)
