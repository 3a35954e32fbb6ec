"""Replay one row on the MariaDB side: read it from a MariaDB source, or upsert / delete it on a MariaDB target.

The row travels between the two sides as JSON text, as PostgreSQL's row_to_json writes it (pipelines/replay.py):
numbers exact (parsed as Decimal, never float), timestamps in ISO 8601 with their offset, bytea as "\\x<hex>",
json as JSON. On a MariaDB target a value is turned back into what the column stores (aware timestamps as UTC wall
clock, like the full load's writer); a MariaDB source's row is written in the same JSON form. A MariaDB table lives
in the connection's database under its own name (engine/mariadb/target.py): shop.orders is <database>.orders.
"""

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import orjson
import pymysql

from cdcflow.core.errors import InvalidField
from cdcflow.engine.catalog import TableDef
from cdcflow.engine.mariadb.catalog import read_table
from cdcflow.engine.mariadb.session import qi, qt


def _definition(conn: pymysql.Connection, database: str, table: str, side: str) -> TableDef:
    schema_name, _, name = table.partition(".")
    found = read_table(conn, database if side == "target" else schema_name, name)
    if found is None:
        raise InvalidField("table", f"{table} does not exist on the {side}")
    return found


def _check_key(definition: TableDef, table: str, key: dict[str, Any], side: str) -> list[str]:
    key_columns = list(definition.primary_key)
    if not key_columns:
        raise InvalidField("table", f"{table} has no primary key on the {side}")
    if sorted(key_columns) != sorted(key):
        raise InvalidField("key", f"The key of {table} on the {side} is ({', '.join(key_columns)})")
    return key_columns


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    raise TypeError(type(value).__name__)


def read_source_row(conn: pymysql.Connection, table: str, key: dict[str, Any]) -> str | None:
    """The row of a MariaDB source as JSON text (None when the source no longer has it)."""
    definition = _definition(conn, "", table, "source")
    key_columns = _check_key(definition, table, key, "source")
    where = " AND ".join(f"{qi(c)} = %s" for c in key_columns)
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(f"SELECT * FROM {qt(definition.schema, definition.name)} WHERE {where}",
                    [key[c] for c in key_columns])
        row = cur.fetchone()
    if row is None:
        return None
    # MariaDB's timestamps come in UTC (the session's time zone): say so, for a timestamptz on the other side.
    return orjson.dumps(row, default=_json_default, option=orjson.OPT_NAIVE_UTC).decode()


def _stored(value: Any, neutral_type: str) -> Any:
    """A JSON value as the MariaDB column stores it."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if neutral_type == "bytea" and isinstance(value, str) and value.startswith("\\x"):
        return bytes.fromhex(value[2:])
    if neutral_type.startswith("timestamp") and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    if neutral_type == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if neutral_type.startswith("time") and isinstance(value, str):
        return time.fromisoformat(value).replace(tzinfo=None)
    return value


def apply_to_target(conn: pymysql.Connection, database: str, table: str, key: dict[str, Any],
                    row: str | None) -> str:
    """Upsert `row` (JSON text; or delete the key when `row` is None) on a MariaDB target; returns what was done."""
    definition = _definition(conn, database, table, "target")
    key_columns = _check_key(definition, table, key, "target")
    name = qt(definition.schema, definition.name)
    types = {c.name: c.type for c in definition.columns}
    with conn.cursor() as cur:
        if row is None:
            where = " AND ".join(f"{qi(c)} = %s" for c in key_columns)
            done = cur.execute(f"DELETE FROM {name} WHERE {where}",
                               [_stored(key[c], types[c]) for c in key_columns])
            return "deleted" if done else "absent"
        present = json.loads(row, parse_float=Decimal)
        columns = [c.name for c in definition.columns if c.name in present]
        others = [c for c in columns if c not in key_columns]
        update = ", ".join(f"{qi(c)} = VALUES({qi(c)})" for c in others) or \
            ", ".join(f"{qi(c)} = {qi(c)}" for c in key_columns)
        cur.execute(f"INSERT INTO {name} ({', '.join(map(qi, columns))}) VALUES "
                    f"({', '.join(['%s'] * len(columns))}) ON DUPLICATE KEY UPDATE {update}",
                    [_stored(present[c], types[c]) for c in columns])
    return "upserted"
