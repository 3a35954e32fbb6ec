"""`cdcflow demo traffic --database mariadb`: the PostgreSQL demo traffic's mix of inserts, updates and deletes on
the MariaDB shop. A deleted order's lines are deleted first, explicitly: the MariaDB demo has no ON DELETE CASCADE
because InnoDB does not binlog cascaded deletes (see demo/mariadb_seed.py)."""

import random

from cdcflow.demo.mariadb_seed import endpoint_from_dsn
from cdcflow.demo.traffic import drive
from cdcflow.engine.mariadb.connection import connect


def _one_change(cur, rng: random.Random, max_customer: int, max_order: int) -> str:
    op = rng.choices(("insert", "update", "delete"), weights=(5, 4, 1))[0]
    if op == "insert":
        cur.execute("INSERT INTO orders (customer_id, status, total, shipping) "
                    "VALUES (%s, 'new', 0, '{\"carrier\": \"dhl\"}')", (rng.randint(1, max_customer),))
        cur.execute("INSERT INTO order_items VALUES (%s, 1, %s, %s, %s)",
                    (cur.lastrowid, rng.randint(1, 1000), rng.randint(1, 5), round(rng.uniform(5, 99), 2)))
    elif op == "update":
        cur.execute("UPDATE orders SET status = %s WHERE id = (SELECT id FROM (SELECT id FROM orders WHERE id >= %s "
                    "ORDER BY id LIMIT 1) pick)", (rng.choice(["paid", "shipped", "delivered"]),
                                                   rng.randint(1, max_order)))
    else:
        cur.execute("SELECT MAX(id) FROM orders WHERE status = 'new'")
        (order_id,) = cur.fetchone()
        if order_id is not None:
            cur.execute("DELETE FROM order_items WHERE order_id = %s", (order_id,))
            cur.execute("DELETE FROM orders WHERE id = %s", (order_id,))
    return op


def run_traffic(dsn: str, rate: float, duration: float | None, quiet: bool = False) -> dict[str, int]:
    rng = random.Random()
    conn = connect(endpoint_from_dsn(dsn), 10, autocommit=False)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COALESCE(MAX(id), 1) FROM customers")
            (max_customer,) = cur.fetchone()
            cur.execute("SELECT COALESCE(MAX(id), 1) FROM orders")
            (max_order,) = cur.fetchone()
            conn.commit()

            def change() -> str:
                op = _one_change(cur, rng, max_customer, max_order)
                conn.commit()  # one transaction per change, as the PostgreSQL traffic's autocommit statements
                return op

            return drive(change, rate, duration, quiet)
    finally:
        conn.close()
