"""search postings: on PostgreSQL, the words of the full-text index with the ids of the
products holding them, read by broad searches instead of visiting every matching row, and
the products changed since those lists were built (kept by statement triggers).

See services/catalog/search.py. Nothing changes on SQLite (FTS5 already answers from its
own index).

Revision ID: 7c4e2a91b5d3
Revises: 12d5c7f819d9
Create Date: 2026-11-22 15:05:00.000000

"""
from typing import Sequence, Union

from alembic import op


revision: str = '7c4e2a91b5d3'
down_revision: Union[str, Sequence[str], None] = '12d5c7f819d9'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


UPGRADE = [
    # intarray (a trusted contrib extension: the database's owner may create it) unions and
    # intersects sorted id arrays in C, on the server, so only a search's result travels
    "CREATE EXTENSION IF NOT EXISTS intarray",
    "CREATE AGGREGATE catalog_ids_union(int4[]) (sfunc = _int_union, stype = int4[])",
    "CREATE AGGREGATE catalog_ids_intersection(int4[]) (sfunc = _int_inter, stype = int4[])",
    # one row per (generation, word); ids: the ascending ids of the products holding it.
    # Stored uncompressed: lists are read whole, and compression gains little.
    """CREATE TABLE search_postings (
        generation integer NOT NULL,
        lexeme text COLLATE "C" NOT NULL,
        ids int4[] NOT NULL,
        PRIMARY KEY (generation, lexeme))""",
    "ALTER TABLE search_postings ALTER COLUMN ids SET STORAGE EXTERNAL",
    # the generation searches read (one row, id 1); 0: none built yet
    "CREATE TABLE search_state (id integer PRIMARY KEY, generation integer NOT NULL)",
    "INSERT INTO search_state (id, generation) VALUES (1, 0)",
    # products whose words changed since the current generation was built; seq tells a
    # builder whether a row changed again while it was building
    "CREATE SEQUENCE search_change_seq",
    "CREATE TABLE search_changes (product_id integer PRIMARY KEY, seq bigint NOT NULL)",
    # the changes a builder's snapshot saw, removed from search_changes when it publishes
    "CREATE TABLE search_changes_seen (product_id integer PRIMARY KEY, seq bigint NOT NULL)",
    """CREATE FUNCTION catalog_search_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO search_changes (product_id, seq)
            SELECT id, nextval('search_change_seq') FROM changed_rows
        ON CONFLICT (product_id) DO UPDATE SET seq = excluded.seq;
        RETURN NULL;
    END $$""",
    # an update counts only when the searchable words changed (a price-only re-import
    # leaves the lists valid)
    """CREATE FUNCTION catalog_search_rows_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO search_changes (product_id, seq)
            SELECT n.id, nextval('search_change_seq')
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE o.search_vector IS DISTINCT FROM n.search_vector
        ON CONFLICT (product_id) DO UPDATE SET seq = excluded.seq;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER products_search_inserted AFTER INSERT ON products
        REFERENCING NEW TABLE AS changed_rows
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_search_rows_changed()""",
    """CREATE TRIGGER products_search_deleted AFTER DELETE ON products
        REFERENCING OLD TABLE AS changed_rows
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_search_rows_changed()""",
    """CREATE TRIGGER products_search_updated AFTER UPDATE ON products
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_search_rows_updated()""",
    # products that exist already are all "changed": no list holds them yet
    "INSERT INTO search_changes (product_id, seq) SELECT id, nextval('search_change_seq') FROM products",
]

DOWNGRADE = [
    "DROP TRIGGER IF EXISTS products_search_updated ON products",
    "DROP TRIGGER IF EXISTS products_search_deleted ON products",
    "DROP TRIGGER IF EXISTS products_search_inserted ON products",
    "DROP FUNCTION IF EXISTS catalog_search_rows_updated()",
    "DROP FUNCTION IF EXISTS catalog_search_rows_changed()",
    "DROP TABLE IF EXISTS search_changes_seen",
    "DROP TABLE IF EXISTS search_changes",
    "DROP SEQUENCE IF EXISTS search_change_seq",
    "DROP TABLE IF EXISTS search_state",
    "DROP TABLE IF EXISTS search_postings",
    "DROP AGGREGATE IF EXISTS catalog_ids_intersection(int4[])",
    "DROP AGGREGATE IF EXISTS catalog_ids_union(int4[])",
    # other schemas of this database may use intarray too; it costs nothing to keep
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
