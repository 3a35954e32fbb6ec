"""Debezium's signal table on the source: created per pipeline in schema `cdcflow`, kept in the pipeline's
publication, and written to ask for an incremental snapshot of tables (resync, a table added to a running pipeline).
"""

import json
import uuid

import psycopg
from psycopg import sql


def signal_table_problem(conn: psycopg.Connection, schema: str, table: str | None = None) -> str | None:
    """Why the connected role could not create or write the signal table `schema.table` (None: it can). `table`
    None asks about any pipeline's table: what a connection's preflight checks before a pipeline exists.

    Each case names the one grant that is missing: CREATE SCHEMA ... IF NOT EXISTS checks the database's CREATE
    privilege even when the schema exists, so the schema is looked up first; an existing schema owned by another
    role (another connection's user created it) needs CREATE on that schema, which CREATE on the database does not
    give."""
    user, database, db_create = conn.execute(
        "SELECT current_user, current_database(), has_database_privilege(current_database(), 'CREATE')").fetchone()
    found = conn.execute("SELECT pg_get_userbyid(nspowner), has_schema_privilege(oid, 'USAGE'), "
                         "has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = %s",
                         (schema,)).fetchone()
    if found is None:
        if db_create:
            return None
        return (f"user {user} may not create the schema {schema} for the signal table: "
                f"GRANT CREATE ON DATABASE {database} TO {user}")
    owner, usage, create = found
    exists = table is not None and conn.execute(
        "SELECT has_table_privilege(c.oid, 'INSERT') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s", (schema, table)).fetchone()
    if exists:
        if usage and exists[0]:
            return None
        return (f"user {user} may not write the signal table {schema}.{table}: "
                f"GRANT USAGE ON SCHEMA {schema} TO {user}; GRANT INSERT ON {schema}.{table} TO {user}")
    if usage and create:
        return None
    return (f"the schema {schema} belongs to {owner} and user {user} may not create tables in it: "
            f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {user}")


def ensure_signal_table(conn: psycopg.Connection, publication: str, schema: str, table: str) -> None:
    """Create the table if missing and put it in the publication: Debezium reads its requests, and the watermarks
    it writes there, from the replication stream."""
    ident = sql.Identifier(schema, table)
    if not conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, "
                         "data varchar(2048))").format(ident))
    published = conn.execute("SELECT 1 FROM pg_publication_tables WHERE pubname = %s AND schemaname = %s "
                             "AND tablename = %s", (publication, schema, table)).fetchone()
    if not published:
        conn.execute(sql.SQL("ALTER PUBLICATION {} ADD TABLE {}").format(sql.Identifier(publication), ident))


def new_signal_id() -> str:
    return f"resync-{uuid.uuid4()}"


def request_incremental_snapshot(conn: psycopg.Connection, schema: str, table: str, tables: list[str],
                                 signal_id: str) -> None:
    """Insert an execute-snapshot signal for `tables` (schema.table); Debezium's notifications carry its id."""
    conn.execute(sql.SQL("INSERT INTO {} (id, type, data) VALUES (%s, 'execute-snapshot', %s)").format(
        sql.Identifier(schema, table)),
        (signal_id, json.dumps({"data-collections": tables, "type": "incremental"})))


def drop_signal_table(conn: psycopg.Connection, schema: str, table: str) -> None:
    """Drop the table if it exists. Looked up in the catalog first: when the schema belongs to another role (another
    connection's user created it), this role could never have created the table, and DROP ... IF EXISTS would fail
    on the schema's permissions instead of finding nothing to drop."""
    exists = conn.execute("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE n.nspname = %s AND c.relname = %s", (schema, table)).fetchone()
    if exists:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, table)))
