"""MariaDB in the stack and in the product: the server stackctl runs, connections of database_type "mariadb", their
Test (with the source/target preflight, each check failing on a server or user configured wrong) and browsing."""

import os
import uuid
from contextlib import contextmanager

import pytest

from cdcflow.demo.mariadb_seed import endpoint_from_dsn
from cdcflow.engine.endpoints import EndpointUnreachable
from cdcflow.engine.mariadb.connection import connect
from tests.pgcluster import free_port

ADMIN_DSN = os.environ.get("MARIADB_ADMIN_DSN", "")
SOURCE_DSN = os.environ.get("MARIADB_DEMO_SOURCE_DSN", "")
TARGET_DSN = os.environ.get("MARIADB_DEMO_TARGET_DSN", "")


@pytest.fixture(scope="module", autouse=True)
def _needs_mariadb():
    # Not a skip: a stack without MariaDB is a broken stack.
    assert ADMIN_DSN and SOURCE_DSN and TARGET_DSN, "the stack env file has no MARIADB_* settings"


@contextmanager
def admin(database: str = "mysql"):
    conn = connect(endpoint_from_dsn(ADMIN_DSN, database), 10, autocommit=True)
    try:
        yield conn.cursor()
    finally:
        conn.close()


def body_for(dsn: str, kind: str, **overrides) -> dict:
    ep = endpoint_from_dsn(dsn)
    body = {"name": f"maria-{kind}-{uuid.uuid4().hex[:8]}", "connection_type": kind, "database_type": "mariadb",
            "host": ep.host, "port": ep.port, "database": ep.database, "username": ep.username,
            "password": ep.password}
    body.update(overrides)
    return body


@pytest.fixture
def make_connection(client, auth):
    made = []

    def make(dsn: str, kind: str, **overrides) -> dict:
        response = client.post("/api/v1/connections", json=body_for(dsn, kind, **overrides), headers=auth["operator"])
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
        return response.json()

    yield make
    for cid in made:
        client.delete(f"/api/v1/connections/{cid}", headers=auth["operator"])


def run_test(client, auth, cid: str, tables: list[str] | None = None) -> dict:
    response = client.post(f"/api/v1/connections/{cid}/test", json={"tables": tables or []},
                           headers=auth["operator"])
    assert response.status_code == 200, response.text
    return response.json()


def checks_of(result: dict) -> dict[str, dict]:
    return {c["name"]: c for c in result["checks"]}


@pytest.fixture
def mariadb_user():
    """A throwaway MariaDB account with the given global and per-database grants: (username, password)."""
    made = []

    def make(global_grants: str | None, database_grants: tuple[str, str] | None = None) -> tuple[str, str]:
        name, password = f"t_{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
        with admin() as cur:
            cur.execute(f"CREATE USER '{name}'@'127.0.0.1' IDENTIFIED BY '{password}'")
            made.append(name)
            if global_grants:
                cur.execute(f"GRANT {global_grants} ON *.* TO '{name}'@'127.0.0.1'")
            if database_grants:
                cur.execute(f"GRANT {database_grants[1]} ON {database_grants[0]}.* TO '{name}'@'127.0.0.1'")
        return name, password

    yield make
    with admin() as cur:
        for name in made:
            cur.execute(f"DROP USER IF EXISTS '{name}'@'127.0.0.1'")


@contextmanager
def global_setting(name: str, value):
    with admin() as cur:
        cur.execute(f"SELECT @@GLOBAL.{name}")
        old = cur.fetchone()[0]
        cur.execute(f"SET GLOBAL {name} = %s", (value,))
    try:
        yield
    finally:
        with admin() as cur:
            cur.execute(f"SET GLOBAL {name} = %s", (old,))


# ------------------------------------------------------------------------------------------------- the stack


def test_stack_server_is_a_cdc_source_in_utc():
    with admin() as cur:
        cur.execute("SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@server_id, @@global.time_zone, "
                    "@@character_set_server, @@bind_address, @@gtid_domain_id")
        log_bin, fmt, image, server_id, tz, charset, bind, _domain = cur.fetchone()
    assert (log_bin, fmt, image, tz, charset, bind) == (1, "ROW", "FULL", "+00:00", "utf8mb4", "127.0.0.1")
    assert server_id > 0


def test_stack_root_never_over_tcp_and_demo_accounts_least_privilege():
    ep = endpoint_from_dsn(ADMIN_DSN)
    for password in ("", "root"):
        with pytest.raises(EndpointUnreachable, match="wrong username or password"):
            connect(ep.__class__(**{**ep.__dict__, "username": "root", "password": password}), 5)
    with admin() as cur:
        cur.execute("SHOW GRANTS FOR 'cdcflow_demo_source'@'127.0.0.1'")
        source = " ".join(r[0] for r in cur.fetchall())
        cur.execute("SHOW GRANTS FOR 'cdcflow_demo_target'@'127.0.0.1'")
        target = " ".join(r[0] for r in cur.fetchall())
    assert "GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR ON *.*" in source
    assert "SUPER" not in source and "ALL PRIVILEGES ON *.*" not in source
    assert "ON *.*" in target and "GRANT USAGE ON *.*" in target  # nothing global beyond logging in
    assert "ALL PRIVILEGES ON `demo_target`.*" in target and "`shop`" not in target


def test_demo_seed_made_the_shop_tables_and_connections(client, auth):
    conn = connect(endpoint_from_dsn(SOURCE_DSN), 10)
    try:
        with conn.cursor() as cur:
            counts = {}
            for table in ("customers", "products", "orders", "order_items"):
                cur.execute(f"SELECT COUNT(*) FROM {table}")
                counts[table] = cur.fetchone()[0]
    finally:
        conn.close()
    # The PostgreSQL demo's row counts: 5000 customers, 1000 products, 20000 orders with 1..4 lines each (50000);
    # demo traffic (test_mariadb_cli) may have changed orders since, never customers or products.
    assert (counts["customers"], counts["products"]) == (5000, 1000)
    assert counts["orders"] >= 19000 and counts["order_items"] >= 47000
    listed = client.get("/api/v1/connections", headers=auth["admin"]).json()["items"]
    demo = {c["name"]: c for c in listed if c["name"].startswith("Demo MariaDB")}
    assert demo["Demo MariaDB source"]["database_type"] == "mariadb"
    assert demo["Demo MariaDB source"]["username"] == "cdcflow_demo_source"
    assert demo["Demo MariaDB target"]["database"] == "demo_target"
    result = run_test(client, {"operator": auth["admin"]}, demo["Demo MariaDB source"]["id"], ["shop.orders"])
    assert result["ok"] is True, result


# ------------------------------------------------------------------------------------------- connections API


def test_create_defaults_to_mariadb_port_and_database_as_schema(client, auth, make_connection):
    body = body_for(SOURCE_DSN, "source")
    del body["port"]
    response = client.post("/api/v1/connections", json=body, headers=auth["operator"])
    assert response.status_code == 201, response.text
    created = response.json()
    client.delete(f"/api/v1/connections/{created['id']}", headers=auth["operator"])
    assert (created["database_type"], created["port"], created["schema"]) == ("mariadb", 3306, "shop")
    bad = client.post("/api/v1/connections", json=body_for(SOURCE_DSN, "source", database_type="oracle"),
                      headers=auth["operator"])
    assert bad.status_code == 422 and "database_type" in bad.text


def test_source_test_passes_on_the_stack_and_never_echoes_the_password(client, auth, make_connection):
    conn = make_connection(SOURCE_DSN, "source")
    result = run_test(client, auth, conn["id"], ["shop.orders", "shop.order_items"])
    assert result["ok"] is True and result["error"] is None, result
    assert "MariaDB" in result["server_version"]
    checks = checks_of(result)
    assert {"log_bin", "binlog_format", "binlog_row_image", "server_id", "binlog_retention",
            "replication_privileges", "primary_keys"} <= set(checks)
    assert all(c["ok"] and not c["warning"] for c in checks.values()), checks
    assert "superuser" not in checks
    assert endpoint_from_dsn(SOURCE_DSN).password not in str(result)
    updated = client.put(f"/api/v1/connections/{conn['id']}", json={"name": conn["name"] + "-x"},
                         headers=auth["operator"])
    assert updated.status_code == 200 and updated.json()["database_type"] == "mariadb"


@pytest.mark.parametrize("change, error", [
    ({"password": "wrong-password"}, "Authentication failed: wrong username or password"),
    ({"database": "no_such_db"}, "Database does not exist"),
    ({"port": None}, "Could not connect to the server"),
])
def test_failures_are_clear_and_in_the_result(client, auth, make_connection, change, error):
    if change.get("port", 0) is None:
        change = {"port": free_port()}
    conn = make_connection(SOURCE_DSN, "source", **change)
    result = run_test(client, auth, conn["id"])
    assert (result["ok"], result["error"], result["checks"]) == (False, error, [])
    assert "wrong-password" not in str(result)


def test_user_without_replication_privileges_fails_the_check(client, auth, make_connection, mariadb_user):
    name, password = mariadb_user("SELECT, SHOW DATABASES")
    conn = make_connection(SOURCE_DSN, "source", username=name, password=password)
    result = run_test(client, auth, conn["id"])
    check = checks_of(result)["replication_privileges"]
    assert result["ok"] is False and check["ok"] is False
    assert "RELOAD" in check["detail"] and "REPLICATION SLAVE" in check["detail"]
    assert "REPLICATION CLIENT" in check["detail"] and "SHOW DATABASES" not in check["detail"].split("on *.*")[0]


def test_admin_user_passes_with_a_superuser_warning(client, auth, make_connection):
    ep = endpoint_from_dsn(ADMIN_DSN)
    conn = make_connection(SOURCE_DSN, "source", username=ep.username, password=ep.password)
    result = run_test(client, auth, conn["id"])
    assert result["ok"] is True
    assert checks_of(result)["superuser"]["warning"] is True


def test_table_without_primary_key_and_missing_table_fail(client, auth, make_connection):
    table = f"nopk_{uuid.uuid4().hex[:8]}"
    with admin("shop") as cur:
        cur.execute(f"CREATE TABLE {table} (v INT)")
    try:
        conn = make_connection(SOURCE_DSN, "source")
        result = run_test(client, auth, conn["id"], [f"shop.{table}", "shop.orders", "shop.nothing_here"])
    finally:
        with admin("shop") as cur:
            cur.execute(f"DROP TABLE {table}")
    checks = checks_of(result)
    assert result["ok"] is False
    assert checks["primary_keys"]["ok"] is False and checks["primary_keys"]["detail"] == f"no primary key: shop.{table}"
    assert checks["tables_exist"]["ok"] is False and "shop.nothing_here" in checks["tables_exist"]["detail"]


@pytest.mark.parametrize("setting, value, check", [
    ("binlog_format", "STATEMENT", "binlog_format"),
    ("binlog_row_image", "MINIMAL", "binlog_row_image"),
])  # server_id cannot be made wrong on 10.11: it truncates 0 to 1 (the check is for servers that allow 0)
def test_server_configured_wrong_fails_its_check(client, auth, make_connection, setting, value, check):
    conn = make_connection(SOURCE_DSN, "source")
    with global_setting(setting, value):
        result = run_test(client, auth, conn["id"])
    assert result["ok"] is False
    failed = [c["name"] for c in result["checks"] if not c["ok"]]
    assert failed == [check], result["checks"]
    assert run_test(client, auth, conn["id"])["ok"] is True  # and passes again once the server is fixed


def test_short_binlog_retention_is_a_warning(client, auth, make_connection):
    conn = make_connection(SOURCE_DSN, "source")
    with global_setting("binlog_expire_logs_seconds", 3600):
        result = run_test(client, auth, conn["id"])
    retention = checks_of(result)["binlog_retention"]
    assert result["ok"] is True and retention["ok"] is True and retention["warning"] is True
    assert "1 h" in retention["detail"]


def test_target_checks_create_privileges(client, auth, make_connection, mariadb_user):
    good = run_test(client, auth, make_connection(TARGET_DSN, "target")["id"])
    assert good["ok"] is True and [c["name"] for c in good["checks"]] == ["create_privilege"]
    name, password = mariadb_user(None, ("demo_target", "SELECT, INSERT"))
    weak = run_test(client, auth, make_connection(TARGET_DSN, "target", username=name, password=password)["id"])
    check = checks_of(weak)["create_privilege"]
    assert weak["ok"] is False and check["ok"] is False and "CREATE" in check["detail"]


def test_browse_tables_and_columns(client, auth, make_connection):
    conn = make_connection(SOURCE_DSN, "source")
    response = client.get(f"/api/v1/connections/{conn['id']}/tables", headers=auth["operator"])
    assert response.status_code == 200, response.text
    tables = {f"{t['schema']}.{t['table']}": t for t in response.json()}
    assert {"shop.customers", "shop.products", "shop.orders", "shop.order_items"} <= set(tables)
    assert not any(name.startswith(("mysql.", "information_schema.")) for name in tables)
    assert tables["shop.order_items"]["primary_key"] == ["order_id", "line_no"]
    assert tables["shop.orders"]["estimated_rows"] > 0 and tables["shop.orders"]["replica_identity"] == "full"
    columns = client.get(f"/api/v1/connections/{conn['id']}/tables/shop/order_items/columns",
                         headers=auth["operator"])
    assert columns.status_code == 200, columns.text
    by_name = {c["name"]: c for c in columns.json()}
    assert by_name["unit_price"]["type"] == "decimal(10,2)" and by_name["unit_price"]["nullable"] is False
    assert by_name["order_id"]["primary_key"] and not by_name["quantity"]["primary_key"]
    missing = client.get(f"/api/v1/connections/{conn['id']}/tables/shop/nothing_here/columns",
                         headers=auth["operator"])
    assert missing.status_code == 404 and missing.json()["error"]["code"]


def test_pipeline_create_checks_tables_on_a_mariadb_source(client, auth, make_connection):
    source, target = make_connection(SOURCE_DSN, "source"), make_connection(TARGET_DSN, "target")
    body = {"name": f"maria-{uuid.uuid4().hex[:8]}", "source_connection_id": source["id"],
            "target_connection_id": target["id"], "mode": "full_load_and_cdc"}
    missing = client.post("/api/v1/pipelines", json={**body, "tables": ["shop.orders", "shop.nothing_here"]},
                          headers=auth["operator"])
    assert missing.status_code == 422, missing.text
    assert missing.json()["error"]["details"]["missing_tables"] == ["shop.nothing_here"]
    created = client.post("/api/v1/pipelines", json={**body, "tables": ["shop.orders"]}, headers=auth["operator"])
    assert created.status_code == 201, created.text
    # force: until the MariaDB source port lands (engine/ports.py), the source clean-up does not know MariaDB.
    deleted = client.delete(f"/api/v1/pipelines/{created.json()['id']}?force=true", headers=auth["operator"])
    assert deleted.status_code in (200, 202, 204), deleted.text


def test_browse_failures_use_the_error_shape(client, auth, make_connection):
    conn = make_connection(SOURCE_DSN, "source", password="wrong-password")
    response = client.get(f"/api/v1/connections/{conn['id']}/tables", headers=auth["operator"])
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] and "Authentication failed: wrong username or password" in error["message"]
    assert "wrong-password" not in response.text and "Traceback" not in response.text
