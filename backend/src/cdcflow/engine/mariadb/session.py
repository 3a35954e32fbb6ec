"""Engine sessions on MariaDB (source snapshot, target load): engine/mariadb/connection.py's pinned, no-cleartext
connection in autocommit, UTC, strict SQL mode, with no read timeout (a full-load query may run long)."""

import pymysql

from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.mariadb import connection


def connect(endpoint: DatabaseEndpoint, timeout: int, **kwargs) -> pymysql.Connection:
    kwargs.setdefault("read_timeout", None)
    kwargs.setdefault("write_timeout", None)
    return connection.connect(endpoint, timeout, autocommit=True,
                              init_command="SET time_zone = '+00:00', sql_mode = CONCAT(@@sql_mode, "
                                           "',STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO')", **kwargs)


def qi(name: str) -> str:
    """A quoted MariaDB identifier."""
    return "`" + name.replace("`", "``") + "`"


def qt(schema: str, table: str) -> str:
    return f"{qi(schema)}.{qi(table)}"
