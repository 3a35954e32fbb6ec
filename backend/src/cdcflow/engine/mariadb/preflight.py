"""The connection Test for MariaDB: connect, then check what a pipeline will need from a source or a target.

The answer has the shape of engine/postgres/preflight.py's (ok, error, server_version, latency_ms, checks). A source
needs what Debezium's MariaDB connector documents: the binary log on, in ROW format with FULL row images, a server
id, binlogs kept long enough for a paused pipeline to resume, and a user with SELECT, RELOAD, SHOW DATABASES,
REPLICATION SLAVE and REPLICATION CLIENT (called BINLOG MONITOR since MariaDB 10.5) on *.*.
"""

import time
from typing import Any

from cdcflow.engine.endpoints import DatabaseEndpoint, EndpointUnreachable
from cdcflow.engine.mariadb.catalog import list_tables
from cdcflow.engine.mariadb.connection import COULD_NOT_CONNECT, connect

LISTED_NAMES = 20
# Below a day of binlog, a pipeline stopped over a weekend cannot resume where it stopped.
MIN_RETENTION_SECONDS = 24 * 3600
# Global privileges the source user needs, and the names a server may report each one under.
SOURCE_PRIVILEGES = {
    "SELECT": ("SELECT",),
    "RELOAD": ("RELOAD",),
    "SHOW DATABASES": ("SHOW DATABASES",),
    "REPLICATION SLAVE": ("REPLICATION SLAVE",),
    "REPLICATION CLIENT": ("BINLOG MONITOR", "REPLICATION CLIENT"),
}
SUPERUSER_SOURCE_ADVICE = (
    "cdcflow works with it, but this password then opens the whole server to anyone who can read or redirect it. "
    "Use a user with SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE and REPLICATION CLIENT (BINLOG MONITOR) on "
    "*.*, as Debezium's documentation recommends")
SUPERUSER_TARGET_ADVICE = (
    "cdcflow works with it, but this password then opens the whole server to anyone who can read or redirect it. "
    "Use a user with all privileges on this database only")
TARGET_PRIVILEGES = ("CREATE", "DROP", "ALTER", "INDEX", "SELECT", "INSERT", "UPDATE", "DELETE")

# information_schema shows only the caller's grants to an ordinary user, but everybody's to one who may read the
# mysql database: always filter on the current account.
_GRANTEE = ("CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', "
            "SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')")


def _check(name: str, ok: bool, detail: str, warning: bool = False) -> dict[str, Any]:
    return {"name": name, "ok": ok, "detail": detail, "warning": warning}


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:LISTED_NAMES])
    return shown if len(names) <= LISTED_NAMES else f"{shown} and {len(names) - LISTED_NAMES} more"


def _one(conn: Any, query: str, args: Any = None) -> Any:
    with conn.cursor() as cur:
        cur.execute(query, args)
        row = cur.fetchone()
    return row[0] if row else None


def _column(conn: Any, query: str, args: Any = None) -> list[Any]:
    with conn.cursor() as cur:
        cur.execute(query, args)
        return [r[0] for r in cur.fetchall()]


def test_connection(endpoint: DatabaseEndpoint, is_source: bool, tables: list[str], timeout: int) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        conn = connect(endpoint, timeout, autocommit=True)
    except EndpointUnreachable as exc:
        if str(exc) == COULD_NOT_CONNECT:
            # As for PostgreSQL: every failure to connect takes the full timeout, so the latency maps no ports.
            time.sleep(max(0.0, timeout - (time.perf_counter() - started)))
        return {"ok": False, "error": str(exc), "server_version": None,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1), "checks": []}
    try:
        _one(conn, "SET SESSION max_statement_time = %s", (float(timeout),))
        version = _one(conn, "SELECT VERSION()")
        latency = round((time.perf_counter() - started) * 1000, 1)
        checks = source_checks(conn, endpoint, tables) if is_source else target_checks(conn, endpoint)
    finally:
        conn.close()
    return {"ok": all(c["ok"] for c in checks), "error": None, "server_version": version, "latency_ms": latency,
            "checks": checks}


def _global_privileges(conn: Any) -> set[str]:
    return set(_column(conn, "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES "
                             f"WHERE GRANTEE = {_GRANTEE}"))


def _is_superuser(privileges: set[str]) -> bool:
    # SUPER, or the power to hand out any privilege on the whole server, opens everything.
    return "SUPER" in privileges or {"CREATE USER", "GRANT OPTION"} <= privileges


def _superuser_check(endpoint: DatabaseEndpoint, advice: str) -> dict[str, Any]:
    return _check("superuser", True, f"user {endpoint.username} has administrative privileges on the whole "
                                     f"server. {advice}.", warning=True)


def _variables(conn: Any) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute("SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@server_id, "
                    "@@binlog_expire_logs_seconds, @@expire_logs_days")
        row = cur.fetchone()
    names = ("log_bin", "binlog_format", "binlog_row_image", "server_id", "binlog_expire_logs_seconds",
             "expire_logs_days")
    return {n: str(v) for n, v in zip(names, row)}


def _retention_check(variables: dict[str, str]) -> dict[str, Any]:
    seconds = int(float(variables["binlog_expire_logs_seconds"] or 0))
    if seconds == 0:  # MariaDB keeps expire_logs_days in step with it; both 0 means binlogs are never purged
        seconds = int(float(variables["expire_logs_days"] or 0) * 86400)
    if seconds == 0:
        return _check("binlog_retention", True, "binary logs are never purged automatically (watch the disk)")
    hours = seconds / 3600
    if seconds < MIN_RETENTION_SECONDS:
        return _check("binlog_retention", True,
                      f"binary logs are kept {hours:g} h: a pipeline stopped longer cannot resume; set "
                      f"binlog_expire_logs_seconds to {MIN_RETENTION_SECONDS} or more", warning=True)
    return _check("binlog_retention", True, f"binary logs are kept {hours:g} h")


def source_checks(conn: Any, endpoint: DatabaseEndpoint, tables: list[str]) -> list[dict[str, Any]]:
    variables = _variables(conn)
    checks = []
    log_bin = variables["log_bin"] == "1"
    checks.append(_check("log_bin", log_bin, "the binary log is " + (
        "on" if log_bin else "off; start the server with log_bin (and restart it)")))
    fmt = variables["binlog_format"].upper()
    checks.append(_check("binlog_format", fmt == "ROW", f"binlog_format is {fmt}" + (
        "" if fmt == "ROW" else "; SET GLOBAL binlog_format = 'ROW' (and in the server's configuration)")))
    image = variables["binlog_row_image"].upper()
    checks.append(_check("binlog_row_image", image == "FULL", f"binlog_row_image is {image}" + (
        "" if image == "FULL" else "; SET GLOBAL binlog_row_image = 'FULL' (and in the server's configuration)")))
    server_id = int(variables["server_id"] or 0)
    checks.append(_check("server_id", server_id > 0, f"server_id is {server_id}" + (
        "" if server_id > 0 else "; set server_id to a non-zero value unique among the servers")))
    checks.append(_retention_check(variables))
    privileges = _global_privileges(conn)
    missing = [name for name, spellings in SOURCE_PRIVILEGES.items() if not privileges & set(spellings)]
    checks.append(_check("replication_privileges", not missing,
                         f"user {endpoint.username} has " + (
                             "SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE and REPLICATION CLIENT on *.*"
                             if not missing else
                             f"not {', '.join(missing)} on *.*; GRANT {', '.join(missing)} ON *.* TO "
                             f"{endpoint.username}")))
    if _is_superuser(privileges):
        checks.append(_superuser_check(endpoint, SUPERUSER_SOURCE_ADVICE))
    if tables:
        info = {f"{t['schema']}.{t['table']}": t for t in list_tables(conn)}
        not_found = [t for t in tables if t not in info]
        no_pk = [t for t in tables if t in info and not info[t]["primary_key"]]
        if not_found:
            checks.append(_check("tables_exist", False, "not found: " + _names(not_found)))
        checks.append(_check("primary_keys", not no_pk,
                             "all selected tables have a primary key" if not no_pk
                             else "no primary key: " + _names(no_pk)))
    return checks


def target_checks(conn: Any, endpoint: DatabaseEndpoint) -> list[dict[str, Any]]:
    privileges = _global_privileges(conn)
    on_database = set(_column(
        conn, "SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES "
              f"WHERE GRANTEE = {_GRANTEE} AND TABLE_SCHEMA = DATABASE()"))
    missing = [p for p in TARGET_PRIVILEGES if p not in privileges | on_database]
    checks = [_check("create_privilege", not missing,
                     f"user {endpoint.username} " + (
                         "can create and write tables in this database" if not missing else
                         f"lacks {', '.join(missing)} on this database; GRANT ALL ON {endpoint.database}.* TO "
                         f"{endpoint.username}"))]
    if _is_superuser(privileges):
        checks.append(_superuser_check(endpoint, SUPERUSER_TARGET_ADVICE))
    return checks
