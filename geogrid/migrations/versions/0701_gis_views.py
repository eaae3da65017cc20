"""desktop GIS: views per layer in schema gis; tile copies moved to schema internal

QGIS (or any PostGIS client) browsing the store should see clean layers: ``gis.grids_<layer>`` holds only the grids
of the layer's published plan, with community and street names joined in, a typed geometry (MULTIPOLYGON, 4490)
and an integer key; ``gis.districts``, ``gis.streets`` and ``gis.communities`` the admin areas. A trigger on
``grid_layer`` creates the view of every new layer (and renames or drops it with the layer), so publishing needs
no extra step. The tile copies (``tile_plan``, ``tile_grid``: EPSG:3857, an implementation detail) move out of
``public`` into ``internal``.

Revision ID: 0701
Revises: 0300
"""

from alembic import op

revision = "0701"
down_revision = "0300"
branch_labels = None
depends_on = None

ADMIN_VIEW = """
CREATE OR REPLACE VIEW gis.{view} AS
SELECT a.id AS fid, a.code, a.name, p.code AS parent_code, p.name AS parent_name,
       round(a.area_m2::numeric, 1) AS area_m2, a.geom::geometry(MultiPolygon, 4490) AS geom
FROM admin_area a LEFT JOIN admin_area p ON p.id = a.parent_id
WHERE a.level = '{level}'
"""
LAYER_VIEW_FUNCTION = r"""
CREATE OR REPLACE FUNCTION gis.layer_view_name(layer text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'grids_' || layer $$;

CREATE OR REPLACE FUNCTION gis.create_layer_view(layer_id integer, layer text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format($v$
        CREATE OR REPLACE VIEW gis.%I AS
        SELECT g.id AS fid, g.code, g.local_code, g.name, g.tier,
               c.code AS community_code, c.name AS community_name, s.code AS street_code, s.name AS street_name,
               round(g.area_m2::numeric, 1) AS area_m2, round(g.diameter_m::numeric, 1) AS diameter_m,
               p.name AS plan, p.version AS plan_version, p.valid_from,
               g.geom::geometry(MultiPolygon, 4490) AS geom
        FROM grid g
        JOIN plan p ON p.id = g.plan_id AND p.status = 'published'
        LEFT JOIN admin_area c ON c.id = g.community_id
        LEFT JOIN admin_area s ON s.id = c.parent_id
        WHERE p.layer_id = %s
    $v$, gis.layer_view_name(layer), layer_id);
    EXECUTE format('COMMENT ON VIEW gis.%I IS %L', gis.layer_view_name(layer),
                   'grids of the published plan of layer ' || layer || ' (key: fid; stable identity: code)');
END
$fn$;

CREATE OR REPLACE FUNCTION gis.layer_view_trigger() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE format('DROP VIEW IF EXISTS gis.%I', gis.layer_view_name(OLD.name));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM gis.create_layer_view(NEW.id, NEW.name);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER grid_layer_gis_view AFTER INSERT OR DELETE OR UPDATE OF name ON grid_layer
FOR EACH ROW EXECUTE FUNCTION gis.layer_view_trigger();
"""


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS internal")
    op.execute("ALTER TABLE tile_grid SET SCHEMA internal")
    op.execute("ALTER TABLE tile_plan SET SCHEMA internal")
    op.execute("CREATE SCHEMA IF NOT EXISTS gis")
    op.execute("COMMENT ON SCHEMA gis IS 'views for desktop GIS (QGIS): one per grid layer, and the admin levels'")
    for view, level in (("districts", "district"), ("streets", "street"), ("communities", "community")):
        op.execute(ADMIN_VIEW.format(view=view, level=level))
    op.execute(LAYER_VIEW_FUNCTION)
    op.execute("SELECT gis.create_layer_view(id, name) FROM grid_layer")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS grid_layer_gis_view ON grid_layer")
    op.execute("DROP SCHEMA gis CASCADE")
    op.execute("ALTER TABLE internal.tile_plan SET SCHEMA public")
    op.execute("ALTER TABLE internal.tile_grid SET SCHEMA public")
    op.execute("DROP SCHEMA internal")
