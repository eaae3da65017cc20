"""The PostGIS store: schema, connections, imports and the plan lifecycle."""
