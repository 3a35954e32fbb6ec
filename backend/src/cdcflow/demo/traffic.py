"""`cdcflow demo traffic --rate N [--duration S]`: a steady mix of inserts, updates and deletes on the shop schema,
with one progress line (rate achieved, totals)."""

import random
import sys
import time
from collections.abc import Callable

import psycopg

from cdcflow.demo.seed import SCHEMA


def drive(change: Callable[[], str], rate: float, duration: float | None, quiet: bool = False) -> dict[str, int]:
    """Makes `change()` (one change, returning "insert", "update" or "delete") `rate` times a second for `duration`
    seconds (None: until Ctrl-C), with one progress line (rate achieved, totals). Shared by both databases' traffic."""
    totals = {"insert": 0, "update": 0, "delete": 0}
    started = time.monotonic()
    next_at = started
    try:
        while duration is None or time.monotonic() - started < duration:
            totals[change()] += 1
            next_at += 1 / rate
            sleep = next_at - time.monotonic()
            if sleep > 0:
                time.sleep(sleep)
            done = sum(totals.values())
            if not quiet and done % max(1, int(rate)) == 0:
                elapsed = time.monotonic() - started
                sys.stdout.write(f"\r{done:,} changes in {elapsed:,.0f} s ({done / elapsed:,.1f}/s): "
                                 f"{totals['insert']:,} inserts, {totals['update']:,} updates, "
                                 f"{totals['delete']:,} deletes   ")
                sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    if not quiet:
        sys.stdout.write("\n")
    return totals


def _one_change(conn: psycopg.Connection, rng: random.Random, max_customer: int) -> str:
    op = rng.choices(("insert", "update", "delete"), weights=(5, 4, 1))[0]
    if op == "insert":
        order_id = conn.execute(
            f"INSERT INTO {SCHEMA}.orders (customer_id, status, total, shipping) "
            f"VALUES (%s, 'new', 0, '{{\"carrier\": \"dhl\"}}') RETURNING id",
            (rng.randint(1, max_customer),)).fetchone()[0]
        conn.execute(f"INSERT INTO {SCHEMA}.order_items VALUES (%s, 1, %s, %s, %s)",
                     (order_id, rng.randint(1, 1000), rng.randint(1, 5), round(rng.uniform(5, 99), 2)))
    elif op == "update":
        conn.execute(f"UPDATE {SCHEMA}.orders SET status = %s WHERE id = (SELECT id FROM {SCHEMA}.orders "
                     f"TABLESAMPLE SYSTEM (1) LIMIT 1)", (rng.choice(["paid", "shipped", "delivered"]),))
    else:
        conn.execute(f"DELETE FROM {SCHEMA}.orders WHERE id = (SELECT max(id) FROM {SCHEMA}.orders "
                     f"WHERE status = 'new')")
    return op


def run_traffic(dsn: str, rate: float, duration: float | None, quiet: bool = False) -> dict[str, int]:
    rng = random.Random()
    with psycopg.connect(dsn, autocommit=True) as conn:
        max_customer = conn.execute(f"SELECT coalesce(max(id), 1) FROM {SCHEMA}.customers").fetchone()[0]
        return drive(lambda: _one_change(conn, rng, max_customer), rate, duration, quiet)
