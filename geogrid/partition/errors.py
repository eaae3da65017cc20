"""The partition engine's error: bad input or limits that cannot be met, with a message naming the cause."""

from __future__ import annotations


class PartitionError(ValueError):
    """Raised instead of ever returning a partial plan or a plan with junk grids.

    ``layer`` names the input at fault (``boundary``, ``communities``, ``weights``…) so the CLI can name the file;
    ``places`` lists where (lon/lat or codes), ``fix`` says what to do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        layer: str | None = None,
        places: list | None = None,
        fix: str | None = None,
        points: list[tuple[float, float]] | None = None,
    ):
        super().__init__(message)
        self.layer = layer
        self.places = list(places or [])
        self.fix = fix
        self.points = list(points or [])
        """(lon, lat) of each place, for the map of refused places."""

    def __str__(self) -> str:
        text = super().__str__()
        if self.layer:
            text = f"{self.layer}: {text}"
        if self.places:
            numbered = len(self.places) > 1
            shown = "; ".join(f"({k}) {p}" if numbered else str(p) for k, p in enumerate(self.places[:10], start=1))
            more = f" (and {len(self.places) - 10} more)" if len(self.places) > 10 else ""
            text += f" at {shown}{more}"
        if self.fix:
            text += f"; {self.fix}"
        return text
