"""Replication lag of a pipeline's slot, read on the source."""

from typing import Any

import psycopg

SLOT_LAG = """
SELECT pg_current_wal_lsn()::text, s.confirmed_flush_lsn::text, s.restart_lsn::text,
       pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint,
       pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint, s.wal_status, s.active
FROM pg_replication_slots s WHERE s.slot_name = %s
"""


def slot_lag(conn: psycopg.Connection, slot: str) -> dict[str, Any] | None:
    row = conn.execute(SLOT_LAG, (slot,)).fetchone()
    if row is None:
        return None
    return {"current_lsn": row[0], "confirmed_flush_lsn": row[1], "restart_lsn": row[2], "lag_bytes": row[3],
            "wal_retained_bytes": row[4], "wal_status": row[5], "slot_active": row[6]}


def lsn_to_int(lsn: str | None) -> int | None:
    if not lsn:
        return None
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)
