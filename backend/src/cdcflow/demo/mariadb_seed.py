"""`cdcflow demo seed`, MariaDB half: the shop tables in the MariaDB database `shop` and the "Demo MariaDB source" /
"Demo MariaDB target" connections.

The same four tables and row counts as the PostgreSQL demo (demo/seed.py), with the types mapped: identity ->
BIGINT AUTO_INCREMENT, text -> TEXT (VARCHAR(255) where it is unique), timestamptz -> DATETIME(6) holding UTC (the
stack's server runs in UTC), jsonb -> JSON, numeric(p,s) -> DECIMAL(p,s). Values are deterministic (the PostgreSQL
demo's random prices become a fixed formula). One difference on purpose: no ON DELETE CASCADE, because InnoDB does
not write cascaded deletes to the binary log, so a change-data-capture source would silently miss them.

The tables are created by the stack's admin account (MARIADB_ADMIN_DSN); the connections log in as the demo
accounts stackctl creates (MARIADB_DEMO_SOURCE_DSN, MARIADB_DEMO_TARGET_DSN), never as an administrator.
"""

from urllib.parse import unquote, urlsplit

from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.mariadb.connection import connect

SOURCE_NAME, TARGET_NAME = "Demo MariaDB source", "Demo MariaDB target"
TABLES = ("customers", "products", "orders", "order_items")

# Statements run one by one (no multi-statement protocol). seq_1_to_N is MariaDB's built-in Sequence engine.
DDL = (
    """CREATE TABLE customers (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, full_name TEXT NOT NULL,
        country CHAR(2) NOT NULL, created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        preferences JSON NOT NULL DEFAULT '{}')""",
    """CREATE TABLE products (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, sku VARCHAR(255) NOT NULL UNIQUE, name TEXT NOT NULL,
        price DECIMAL(10, 2) NOT NULL, stock INT NOT NULL, description TEXT, attributes JSON NOT NULL DEFAULT '{}')""",
    """CREATE TABLE orders (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, customer_id BIGINT NOT NULL, status TEXT NOT NULL,
        total DECIMAL(12, 2) NOT NULL DEFAULT 0, placed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        shipping JSON NULL, FOREIGN KEY (customer_id) REFERENCES customers (id))""",
    """CREATE TABLE order_items (
        order_id BIGINT NOT NULL, line_no INT NOT NULL, product_id BIGINT NOT NULL, quantity INT NOT NULL,
        unit_price DECIMAL(10, 2) NOT NULL, PRIMARY KEY (order_id, line_no),
        FOREIGN KEY (order_id) REFERENCES orders (id), FOREIGN KEY (product_id) REFERENCES products (id))""",
)

DATA = (
    """INSERT INTO customers (id, email, full_name, country, created_at, preferences)
       SELECT seq, CONCAT('customer', seq, '@example.com'), CONCAT('Customer ', seq),
              ELT(1 + seq % 5, 'FR', 'DE', 'US', 'GB', 'JP'), UTC_TIMESTAMP(6) - INTERVAL seq * 37 MINUTE,
              CONCAT('{"newsletter": ', IF(seq % 3 = 0, 'true', 'false'), ', "lang": "en"}')
       FROM seq_1_to_5000""",
    # One large text column (several KB) like the PostgreSQL demo's TOASTed description.
    """INSERT INTO products (id, sku, name, price, stock, description, attributes)
       SELECT p.seq, CONCAT('SKU-', LPAD(p.seq, 5, '0')), CONCAT('Product ', p.seq), 5 + (p.seq * 7919 % 49500) / 100,
              10 + p.seq % 200,
              (SELECT GROUP_CONCAT(MD5(CONCAT(p.seq, n.seq)) ORDER BY n.seq SEPARATOR ' ') FROM seq_1_to_150 n),
              CONCAT('{"color": "', ELT(1 + p.seq % 3, 'red', 'blue', 'green'), '", "weight_g": ',
                     100 + p.seq % 900, '}')
       FROM seq_1_to_1000 p""",
    """INSERT INTO orders (id, customer_id, status, total, placed_at, shipping)
       SELECT seq, 1 + seq % 5000, ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'delivered'), 0,
              UTC_TIMESTAMP(6) - INTERVAL seq * 3 MINUTE,
              CONCAT('{"carrier": "ups", "express": ', IF(seq % 7 = 0, 'true', 'false'), '}')
       FROM seq_1_to_20000""",
    """INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price)
       SELECT o.seq, l.seq, 1 + (o.seq * 7 + l.seq) % 1000, 1 + (o.seq + l.seq) % 4, 9.99 + (o.seq + l.seq) % 90
       FROM seq_1_to_20000 o JOIN seq_1_to_4 l ON l.seq <= 1 + o.seq % 4""",
    """UPDATE orders o JOIN (SELECT order_id, SUM(quantity * unit_price) AS total FROM order_items GROUP BY order_id) s
       ON s.order_id = o.id SET o.total = s.total""",
    "ANALYZE TABLE " + ", ".join(TABLES),
)


def endpoint_from_dsn(dsn: str, database: str | None = None) -> DatabaseEndpoint:
    """mariadb://user:password@host:port/database as an endpoint (the stack's env file spells DSNs this way)."""
    parts = urlsplit(dsn)
    return DatabaseEndpoint(database_type="mariadb", host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                            database=database or parts.path.lstrip("/"), username=unquote(parts.username or ""),
                            password=unquote(parts.password or ""), sslmode="prefer")


def seed_schema(admin_dsn: str, database: str, timeout: int = 30) -> bool:
    """Create and fill the shop tables in `database` (True), or leave existing ones alone (False)."""
    conn = connect(endpoint_from_dsn(admin_dsn, database), timeout, read_timeout=600, write_timeout=600)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                        (database, "customers"))
            if cur.fetchone()[0]:
                return False
            for statement in DDL + DATA:
                cur.execute(statement)
        conn.commit()
    finally:
        conn.close()
    return True


def connection_bodies(source_dsn: str, target_dsn: str) -> list[dict]:
    """The two demo connections, as ConnectionCreate fields."""
    bodies = []
    for name, kind, dsn in ((SOURCE_NAME, "source", source_dsn), (TARGET_NAME, "target", target_dsn)):
        endpoint = endpoint_from_dsn(dsn)
        bodies.append({"name": name, "connection_type": kind, "database_type": "mariadb", "host": endpoint.host,
                       "port": endpoint.port, "database": endpoint.database, "username": endpoint.username,
                       "password": endpoint.password, "schema": endpoint.database,
                       "options": {"sslmode": "prefer"}})
    return bodies
