"""Plan and grid metrics; each is a small function whose docstring gives its formula and source."""
