"""Finding 9 (part): the Test warns when a connection uses a PostgreSQL superuser, says why and what to use."""

import uuid

import pytest

from tests.support import connect
from tests.test_connections import connection_body


def test_a_superuser_source_gets_a_warning_that_does_not_fail_the_test(client, auth, stack_env):
    cid = client.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["operator"]).json()["id"]
    result = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"]).json()
    checks = {c["name"]: c for c in result["checks"]}
    warning = checks["superuser"]
    assert warning["ok"] is True and warning["warning"] is True
    for advice in ("superuser", "REPLICATION", "SELECT", "ownership", "Debezium"):
        assert advice in warning["detail"]
    assert result["ok"] is all(c["ok"] for c in result["checks"])
    assert all(c["warning"] is False for name, c in checks.items() if name != "superuser")


def test_a_superuser_target_gets_target_advice(client, auth, stack_env):
    body = connection_body(stack_env, kind="target", database="demo_target")
    cid = client.post("/api/v1/connections", json=body, headers=auth["operator"]).json()["id"]
    result = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"]).json()
    warning = {c["name"]: c for c in result["checks"]}["superuser"]
    assert warning["warning"] is True and "CREATE" in warning["detail"] and result["ok"] is True


@pytest.fixture
def replication_role(stack_env):
    name, password = f"cdc_f9_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with connect(stack_env["PG_SUPERUSER_DSN"]) as db:
        db.execute(f"CREATE ROLE {name} LOGIN REPLICATION PASSWORD '{password}'")
    yield name, password
    with connect(stack_env["PG_SUPERUSER_DSN"]) as db:
        db.execute(f"DROP ROLE {name}")


def test_a_least_privilege_role_gets_no_warning(client, auth, stack_env, replication_role):
    name, password = replication_role
    body = connection_body(stack_env, username=name, password=password)
    cid = client.post("/api/v1/connections", json=body, headers=auth["operator"]).json()["id"]
    result = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"]).json()
    assert result["error"] is None, result
    checks = {c["name"]: c for c in result["checks"]}
    assert "superuser" not in checks and checks["replication_privilege"]["ok"] is True
    client.delete(f"/api/v1/connections/{cid}", headers=auth["operator"])
