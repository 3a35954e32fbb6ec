"""Row count and checksum of one table on either database, for verification (POST /pipelines/{id}/sync-stats).

PostgreSQL to PostgreSQL compares md5 over each row's own text form inside the database (pipelines/verify.py). Across
databases the text forms differ (0/1 vs t/f, DECIMAL's padding, time zones), so both sides are read in key order and
hashed over the canonical form (engine/canonical.py) here.
"""

from psycopg import sql
from psycopg.types.string import TextLoader

from cdcflow.engine.canonical import fingerprint
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.postgres.ddl import read_table as postgres_table
from cdcflow.engine.postgres.inspect import open_connection

BATCH_ROWS = 5000


def placed(endpoint: DatabaseEndpoint, schema: str, table: str) -> tuple[str, str]:
    """Where a source table lives on this endpoint as a target (a MariaDB target keeps tables in its database)."""
    return (endpoint.database, table) if endpoint.database_type == "mariadb" else (schema, table)


def canonical_checksum(endpoint: DatabaseEndpoint, schema: str, table: str, key: tuple[str, ...],
                       timeout: int) -> tuple[int, str] | None:
    if endpoint.database_type == "mariadb":
        from cdcflow.engine.mariadb.session import connect, qi, qt
        from cdcflow.engine.mariadb.catalog import read_table

        with connect(endpoint, timeout) as conn:
            definition = read_table(conn, schema, table)
            if definition is None:
                return None
            order = ", ".join(map(qi, key or [c.name for c in definition.columns]))
            with conn.cursor() as cur:
                cur.execute(f"SELECT {', '.join(qi(c.name) for c in definition.columns)} "
                            f"FROM {qt(schema, table)} ORDER BY {order}")
                return fingerprint(_batches(cur), [c.type for c in definition.columns])
    with open_connection(endpoint, timeout, autocommit=False) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for name in ("json", "jsonb"):
            conn.adapters.register_loader(name, TextLoader)
        definition = postgres_table(conn, schema, table)
        if definition is None:
            return None
        order = sql.SQL(", ").join(map(sql.Identifier, key or [c.name for c in definition.columns]))
        with conn.cursor(name="cdcflow_checksum") as cur:
            cur.execute(sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
                sql.SQL(", ").join(sql.Identifier(c.name) for c in definition.columns),
                sql.Identifier(schema, table), order))
            return fingerprint(_batches(cur), [c.type for c in definition.columns])


def _batches(cur):
    while rows := cur.fetchmany(BATCH_ROWS):
        yield from rows
