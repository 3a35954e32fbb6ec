"""MariaDB as a target: tables created from the neutral definition (engine/mariadb/ddl.py), truncated before a
load, loaded with multi-row INSERTs, primary keys added after the load.

Every table goes into the connection's database under its own name (a source's shop.orders becomes
<database>.orders): a MariaDB database is PostgreSQL's schema, and a target account is usually granted one database.
The sink names tables the same way (sink_config: collection.name.format ${source.table}, the URL's database).

Bulk path: PyMySQL's executemany folds a batch into INSERT statements of up to `MAX_STATEMENT_BYTES`, with unique
checks and foreign key checks off for the load session (the table has no key yet, nothing references it).
LOAD DATA LOCAL INFILE would need local_infile enabled on both sides, which a database cdcflow is only a client of
cannot be assumed to allow.
"""

import json
from dataclasses import replace
from datetime import datetime, time, UTC
from decimal import Decimal
from uuid import UUID

import pymysql

from cdcflow.engine.catalog import TableDef
from cdcflow.engine.mariadb.ddl import UnsupportedType, create_table_sql
from cdcflow.engine.mariadb.session import connect, qi, qt
from cdcflow.engine.mariadb.catalog import read_table

MAX_STATEMENT_BYTES = 4 * 1024 * 1024


def _value(value):
    """A neutral Python value as MariaDB stores it: aware datetimes as UTC wall-clock, uuids as text."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, time) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


_PLAIN = (int, float, str, bytes, Decimal, type(None), bool)


class MariaDbTarget:
    database_type = "mariadb"

    def __init__(self, endpoint, timeout: int) -> None:
        self.endpoint, self.timeout = endpoint, timeout

    def _connect(self) -> pymysql.Connection:
        return connect(self.endpoint, self.timeout, max_allowed_packet=64 * 1024 * 1024)

    def here(self, table: TableDef) -> TableDef:
        """The table as it is named on this target."""
        return replace(table, schema=self.endpoint.database)

    def ensure_tables(self, tables: list[TableDef]) -> list[tuple[TableDef, bool]]:
        names = [t.name for t in tables]
        clashes = sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise UnsupportedType(f"a MariaDB target holds one table per name; more than one source table is named "
                                  f"{', '.join(clashes)}")
        result = []
        with self._connect() as conn, conn.cursor() as cur:
            for table in map(self.here, tables):
                existing = read_table(conn, table.schema, table.name)
                if existing is not None:
                    result.append((existing, bool(table.primary_key) and not existing.primary_key))
                    continue
                cur.execute(create_table_sql(table, with_key=False))
                result.append((read_table(conn, table.schema, table.name), True))
        return result

    def truncate(self, tables: list[TableDef]) -> None:
        with self._connect() as conn, conn.cursor() as cur:
            for t in map(self.here, tables):
                cur.execute(f"TRUNCATE TABLE {qt(t.schema, t.name)}")

    def add_primary_keys(self, tables: list[TableDef]) -> None:
        with self._connect() as conn, conn.cursor() as cur:
            for t in map(self.here, tables):
                if t.primary_key:
                    cur.execute(f"ALTER TABLE {qt(t.schema, t.name)} "
                                f"ADD PRIMARY KEY ({', '.join(map(qi, t.primary_key))})")
                cur.execute(f"ANALYZE TABLE {qt(t.schema, t.name)}")
                cur.fetchall()

    def write_rows(self, table: TableDef, batches, on_batch) -> int:
        table = self.here(table)
        columns = ", ".join(qi(c.name) for c in table.columns)
        marks = ", ".join(["%s"] * len(table.columns))
        statement = f"INSERT INTO {qt(table.schema, table.name)} ({columns}) VALUES ({marks})"
        written = 0
        with self._connect() as conn, conn.cursor() as cur:
            cur.max_stmt_length = MAX_STATEMENT_BYTES
            cur.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
            conn.begin()
            for batch in batches:
                rows = [row if all(isinstance(v, _PLAIN) for v in row) else tuple(map(_value, row))
                        for row in batch]
                cur.executemany(statement, rows)
                written += len(rows)
                on_batch(len(rows), 0)
            conn.commit()
        return written
