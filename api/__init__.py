"""geogrid's HTTP service (FastAPI): map layers, locate and route, reports."""
