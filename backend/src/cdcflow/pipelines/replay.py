"""Replay one row onto the target: the row as the source holds it now is upserted into the target (or deleted from
it, when the source no longer has it). The repair for one row that went wrong on the target, without a resync.

The source, not the event log, is the truth replayed: the log may be pruned by retention, or hold an older image
than the source when the pipeline lags. Values travel as JSON (row_to_json on the source, json_populate_record on
the target), so every type round-trips through its own text form and columns are matched by name: a column the
target lacks (ignored by the schema policy) is left out, and one only the target has keeps its value.

A change still in flight for the same row lands after the replay and wins, as it would have anyway; the sink
applies the row's later changes in order, so the target converges to the source either way.

A MariaDB source or target goes through pipelines/replay_mariadb.py with the same JSON row in between. Failures say
what the connection test says (could not connect, authentication failed, not allowed by policy) or name the side
and the SQLSTATE, never the database's own text (it quotes ports, addresses and values).
"""

import uuid
from typing import Any

import orjson
import psycopg
import pymysql
from psycopg import sql
from sqlalchemy.orm import Session

from cdcflow.audit.service import record
from cdcflow.connections.service import endpoint_for
from cdcflow.core.deps import Actor
from cdcflow.core.errors import AppError, InvalidField
from cdcflow.engine.context import EngineContext
from cdcflow.engine.endpoints import DatabaseEndpoint, EndpointUnreachable
from cdcflow.engine.mariadb import session as mariadb_session
from cdcflow.engine.postgres.inspect import open_connection
from cdcflow.models import Connection, Pipeline
from cdcflow.pipelines import replay_mariadb


class ReplayFailed(AppError):
    """The source or target could not be read or written; the message says which and why."""

    status_code, code = 502, "replay_failed"


def _table_ident(table: str) -> sql.Composed:
    schema, _, name = table.partition(".")
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def _primary_key(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(%s) AND i.indisprimary "
                        "ORDER BY array_position(i.indkey, a.attnum)", (_quoted(table),)).fetchall()
    return [r[0] for r in rows]


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
                        "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum", (_quoted(table),)).fetchall()
    return [r[0] for r in rows]


def _quoted(table: str) -> str:
    schema, _, name = table.partition(".")
    return '"{}"."{}"'.format(schema.replace('"', '""'), name.replace('"', '""'))


def _key_match(alias: str, key_columns: list[str]) -> sql.Composed:
    return sql.SQL(" AND ").join(sql.SQL("t.{c} = {a}.{c}").format(c=sql.Identifier(c), a=sql.Identifier(alias))
                                 for c in key_columns)


def _connect(endpoint: DatabaseEndpoint, timeout: int, what: str) -> Any:
    """A psycopg or PyMySQL connection (autocommit), by the endpoint's database type."""
    try:
        if endpoint.database_type == "mariadb":
            return mariadb_session.connect(endpoint, timeout)
        return open_connection(endpoint, timeout, autocommit=True)
    except EndpointUnreachable as exc:  # its message is the generic one the connection test shows
        raise ReplayFailed(f"Cannot connect to the {what} database: {exc}") from None


def _read(endpoint: DatabaseEndpoint, timeout: int, table: str, key: dict[str, Any]) -> str | None:
    conn = _connect(endpoint, timeout, "source")
    try:
        if endpoint.database_type == "mariadb":
            return replay_mariadb.read_source_row(conn, table, key)
        return read_source_row(conn, table, key)
    except (psycopg.Error, pymysql.Error) as exc:
        raise ReplayFailed(f"Reading the row from the source failed{_code(exc)}") from None
    finally:
        conn.close()


def _write(endpoint: DatabaseEndpoint, timeout: int, table: str, key: dict[str, Any], row: str | None) -> str:
    conn = _connect(endpoint, timeout, "target")
    try:
        if endpoint.database_type == "mariadb":
            return replay_mariadb.apply_to_target(conn, endpoint.database, table, key, row)
        return apply_to_target(conn, table, key, row)
    except (psycopg.Error, pymysql.Error, ValueError) as exc:
        raise ReplayFailed(f"Writing the row to the target failed{_code(exc)}") from None
    finally:
        conn.close()


def _code(exc: Exception) -> str:
    """The SQLSTATE (PostgreSQL) or error number (MariaDB): enough to look up, nothing of the data or the host."""
    if isinstance(exc, psycopg.Error) and exc.sqlstate:
        return f" (SQLSTATE {exc.sqlstate})"
    if isinstance(exc, pymysql.Error) and exc.args and isinstance(exc.args[0], int):
        return f" (error {exc.args[0]})"
    return ""


def read_source_row(conn: psycopg.Connection, table: str, key: dict[str, Any]) -> str | None:
    """The row as JSON text, never parsed on the way: a Python float would round a numeric's digits."""
    key_columns = _primary_key(conn, table)
    if not key_columns:
        raise InvalidField("table", f"{table} has no primary key on the source")
    if sorted(key_columns) != sorted(key):
        raise InvalidField("key", f"The key of {table} is ({', '.join(key_columns)})")
    query = sql.SQL("SELECT row_to_json(t)::text FROM {tbl} t, json_populate_record(NULL::{tbl}, %s::json) k "
                    "WHERE {match}").format(tbl=_table_ident(table), match=_key_match("k", key_columns))
    row = conn.execute(query, (orjson.dumps(key).decode(),)).fetchone()
    return None if row is None else row[0]


def apply_to_target(conn: psycopg.Connection, table: str, key: dict[str, Any], row: str | None) -> str:
    """Upsert `row` (JSON text; or delete the key when `row` is None); returns what was done."""
    if conn.execute("SELECT to_regclass(%s)", (_quoted(table),)).fetchone()[0] is None:
        raise InvalidField("table", f"{table} does not exist on the target")
    key_columns = _primary_key(conn, table)
    if sorted(key_columns) != sorted(key):
        raise InvalidField("key", f"The key of {table} on the target is ({', '.join(key_columns) or 'none'})")
    tbl = _table_ident(table)
    if row is None:
        query = sql.SQL("DELETE FROM {tbl} t USING json_populate_record(NULL::{tbl}, %s::json) k WHERE {match}")
        done = conn.execute(query.format(tbl=tbl, match=_key_match("k", key_columns)),
                            (orjson.dumps(key).decode(),)).rowcount
        return "deleted" if done else "absent"
    present = orjson.loads(row)
    columns = [c for c in _columns(conn, table) if c in present]
    others = [c for c in columns if c not in key_columns]
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    update = (sql.SQL("DO UPDATE SET {}").format(sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in others)) if others
        else sql.SQL("DO NOTHING"))
    query = sql.SQL("INSERT INTO {tbl} ({cols}) SELECT {cols} FROM json_populate_record(NULL::{tbl}, %s::json) "
                    "ON CONFLICT ({keys}) {update}").format(
        tbl=tbl, cols=cols, keys=sql.SQL(", ").join(map(sql.Identifier, key_columns)), update=update)
    conn.execute(query, (row,))
    return "upserted"


def _endpoints(session: Session, ctx: EngineContext, pipeline: Pipeline, table: str):
    if table not in {f"{t.schema_name}.{t.table_name}" for t in pipeline.tables}:
        raise InvalidField("table", f"{table} is not one of this pipeline's tables")
    source = endpoint_for(ctx.box, session.get(Connection, pipeline.source_connection_id), ctx.policy)
    target = endpoint_for(ctx.box, session.get(Connection, pipeline.target_connection_id), ctx.policy)
    return source, target


def read_target_row(conn: psycopg.Connection, table: str, key: dict[str, Any]) -> str | None:
    if conn.execute("SELECT to_regclass(%s)", (_quoted(table),)).fetchone()[0] is None:
        raise InvalidField("table", f"{table} does not exist on the target")
    return read_source_row(conn, table, key)


def preview_replay(session: Session, ctx: EngineContext, pipeline: Pipeline, table: str,
                   key: dict[str, Any]) -> dict[str, Any]:
    """What a replay would write, before it is asked for: the row on the source and on the target, the columns
    whose values differ, and the action (upsert, delete, or none when both agree or neither has the row)."""
    source, target = _endpoints(session, ctx, pipeline, table)
    timeout = ctx.settings.connection_test_timeout_seconds
    session.commit()
    try:
        with _connect(source, timeout, "source") as conn:
            source_row = read_source_row(conn, table, key)
        with _connect(target, timeout, "target") as conn:
            target_row = read_target_row(conn, table, key)
    except psycopg.Error as exc:
        raise ReplayFailed(f"Reading the row failed: {str(exc).strip().splitlines()[0]}") from None
    src = None if source_row is None else orjson.loads(source_row)
    tgt = None if target_row is None else orjson.loads(target_row)
    columns = list(dict.fromkeys([*(src or {}), *(tgt or {})]))
    changed = [c for c in columns if (src or {}).get(c) != (tgt or {}).get(c)] if (src or tgt) else []
    if src is not None:
        action = "upsert" if changed else "none"
    else:
        action = "delete" if tgt is not None else "none"
    return {"table": table, "key": key, "source": src, "target": tgt, "changed": changed, "action": action}


def replay_row(session: Session, ctx: EngineContext, actor: Actor, pipeline: Pipeline, table: str,
               key: dict[str, Any]) -> dict[str, Any]:
    source, target = _endpoints(session, ctx, pipeline, table)
    timeout = ctx.settings.connection_test_timeout_seconds
    pipeline_id: uuid.UUID = pipeline.id
    # Nothing of cdcflow's is locked while the two databases are read and written.
    session.commit()
    row = _read(source, timeout, table, key)
    action = _write(target, timeout, table, key, row)
    record(session, actor, "pipeline.replay_row", f"pipeline:{pipeline_id}", {"table": table, "key": key, "action": action})
    session.commit()
    return {"pipeline_id": pipeline_id, "table": table, "key": key, "action": action,
            "row": None if row is None else orjson.loads(row)}
