"""PostgreSQL as a target: tables created from the source definition, truncated before a load, keys added after."""

import psycopg
from psycopg import sql

from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.postgres.ddl import TableDef, create_table_sql, ident, read_table
from cdcflow.engine.postgres.inspect import open_connection


class PostgresTarget:
    database_type = "postgresql"

    def __init__(self, endpoint: DatabaseEndpoint, timeout: int) -> None:
        self.endpoint, self.timeout = endpoint, timeout

    def _connect(self) -> psycopg.Connection:
        return open_connection(self.endpoint, self.timeout, autocommit=True)

    def ensure_tables(self, tables: list[TableDef]) -> list[tuple[TableDef, bool]]:
        result = []
        with self._connect() as conn:
            for table in tables:
                existing = read_table(conn, table.schema, table.name)
                if existing is not None:
                    # A table left without its key by an interrupted load gets it after this load.
                    result.append((existing, bool(table.primary_key) and not existing.primary_key))
                    continue
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(table.schema)))
                # Like pg_restore: load into a bare table, build the primary key index once at the end.
                conn.execute(create_table_sql(TableDef(table.schema, table.name, table.columns, ())))
                result.append((read_table(conn, table.schema, table.name), True))
        return result

    def truncate(self, tables: list[TableDef]) -> None:
        if tables:
            with self._connect() as conn:
                conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(ident(t) for t in tables)))

    def add_primary_keys(self, tables: list[TableDef]) -> None:
        with self._connect() as conn:
            for t in tables:
                if t.primary_key:
                    conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(
                        ident(t), sql.SQL(", ").join(map(sql.Identifier, t.primary_key))))
                conn.execute(sql.SQL("ANALYZE {}").format(ident(t)))

    def write_rows(self, table: TableDef, batches, on_batch) -> int:
        """COPY in text format, one row at a time through psycopg's dumpers: Decimal, datetimes (UTC), bytes,
        json text and 0/1 for booleans all have a text form PostgreSQL parses by the column's type."""
        written = 0
        columns = sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns)
        with psycopg.connect(**self.endpoint.libpq_kwargs(self.timeout)) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            conn.execute("SET synchronous_commit = off")
            with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(ident(table), columns)) as copy:
                for batch in batches:
                    for row in batch:
                        copy.write_row(row)
                    written += len(batch)
                    on_batch(len(batch), 0)
        return written
