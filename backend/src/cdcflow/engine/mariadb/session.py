"""PyMySQL sessions for the engine's MariaDB source and target (UTC, strict SQL mode, errors made user-safe).

engine/mariadb/connection.py (connections: test and introspection) may share this once both exist; the engine only
needs these few lines.
"""

import pymysql

from cdcflow.engine.endpoints import DatabaseEndpoint, EndpointUnreachable


def connect(endpoint: DatabaseEndpoint, timeout: int, database: str | None = None, **kwargs) -> pymysql.Connection:
    host = endpoint.host
    if endpoint.guard is not None:  # resolved and checked now, connected to by address (as for PostgreSQL)
        host = endpoint.guard.check(endpoint.host, endpoint.port, endpoint.database)[0]
    try:
        conn = pymysql.connect(host=host, port=endpoint.port, user=endpoint.username, password=endpoint.password,
                               database=database if database is not None else (endpoint.database or None),
                               connect_timeout=timeout, charset="utf8mb4", autocommit=True,
                               # Times travel as UTC both ways: DATETIME columns hold UTC wall-clock times.
                               init_command="SET time_zone = '+00:00', sql_mode = CONCAT(@@sql_mode, "
                                            "',STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO')", **kwargs)
    except pymysql.err.OperationalError as exc:
        code = exc.args[0] if exc.args else 0
        reason = "access denied" if code == 1045 else f"cannot connect (MariaDB error {code})"
        raise EndpointUnreachable(f"{endpoint.host}:{endpoint.port}: {reason}") from None
    return conn


def qi(name: str) -> str:
    """A quoted MariaDB identifier."""
    return "`" + name.replace("`", "``") + "`"


def qt(schema: str, table: str) -> str:
    return f"{qi(schema)}.{qi(table)}"
