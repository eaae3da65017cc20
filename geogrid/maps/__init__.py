"""Map layers for other systems: the collection catalogue, GeoJSON features, vector tiles, exports."""
