"""Finding 1: a stored password cannot be redirected, sent in clear, or used on cdcflow's own database."""

import re
import uuid
from pathlib import Path

import pytest

import cdcflow
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.fullload.copier import open_snapshot_reader
from cdcflow.engine.postgres.inspect import EndpointUnreachable, open_connection
from cdcflow.engine.postgres.replication import slot_with_exported_snapshot
from cdcflow.engine.postgres.source import PostgresSource
from cdcflow.engine.postgres.target import PostgresTarget
from tests.security.support import FakeServer
from tests.support import connect
from tests.test_connections import connection_body

SECRET = "s3cret-" + uuid.uuid4().hex


def fields(response) -> dict[str, str]:
    """{field: message} of a 422 in the app's validation shape."""
    assert response.status_code == 422, response.text
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    return {f["loc"][-1]: f["message"] for f in body["details"]["fields"]}


@pytest.fixture
def admin_connection(client, auth, stack_env, grant):
    """A connection an admin created with the real password, which operators never learn, shared with the
    operator at the level that allows editing it (the attacker of the finding holds exactly that)."""
    created = client.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["admin"])
    assert created.status_code == 201, created.text
    grant("connections", created.json()["id"], "operator", "manage")
    grant("connections", created.json()["id"], "viewer", "view")
    yield created.json()
    client.delete(f"/api/v1/connections/{created.json()['id']}", headers=auth["admin"])


@pytest.mark.parametrize("change", [{"host": "localhost"}, {"port": 5433}, {"database": "postgres"},
                                    {"username": "someone_else"}])
def test_changing_where_the_password_goes_requires_the_password(client, auth, admin_connection, change):
    cid = admin_connection["id"]
    refused = client.put(f"/api/v1/connections/{cid}", json=change, headers=auth["operator"])
    message = fields(refused)["password"]
    assert next(iter(change)) in message
    after = client.get(f"/api/v1/connections/{cid}", headers=auth["viewer"]).json()
    assert {k: after[k] for k in change} == {k: admin_connection[k] for k in change}  # nothing stored


def test_the_same_values_or_other_fields_need_no_password(client, auth, admin_connection):
    cid, c = admin_connection["id"], admin_connection
    same = {"host": c["host"], "port": c["port"], "database": c["database"], "username": c["username"],
            "name": c["name"] + "-renamed", "schema": "shop"}
    response = client.put(f"/api/v1/connections/{cid}", json=same, headers=auth["operator"])
    assert response.status_code == 200, response.text
    assert response.json()["name"] == c["name"] + "-renamed"


def test_a_new_address_with_the_password_is_accepted(client, auth, stack_env, admin_connection):
    cid = admin_connection["id"]
    body = {"host": "localhost", "password": connection_body(stack_env)["password"]}
    response = client.put(f"/api/v1/connections/{cid}", json=body, headers=auth["operator"])
    assert response.status_code == 200, response.text
    assert response.json()["host"] == "localhost"
    assert client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"]).json()["ok"] is True


@pytest.mark.parametrize("options", [{"sslmode": "disable"}, {"sslmode": "prefer", "allow_md5": True}])
def test_weakening_how_the_password_travels_requires_the_password(client, auth, stack_env, grant, options):
    body = connection_body(stack_env, options={"sslmode": "require"} if "allow_md5" not in options else {})
    cid = client.post("/api/v1/connections", json=body, headers=auth["admin"]).json()["id"]
    grant("connections", cid, "operator", "manage")
    assert "password" in fields(client.put(f"/api/v1/connections/{cid}", json={"options": options},
                                           headers=auth["operator"]))
    stronger = client.put(f"/api/v1/connections/{cid}", json={"options": {"sslmode": "verify-full"}},
                          headers=auth["operator"])
    assert stronger.status_code == 200, stronger.text


# ------------------------------------------------------------------------------- never a cleartext password

def test_the_test_button_never_sends_a_password_to_a_server_asking_for_cleartext(client, auth, stack_env):
    with FakeServer("cleartext") as fake:
        body = connection_body(stack_env, host="127.0.0.1", port=fake.port, password=SECRET)
        cid = client.post("/api/v1/connections", json=body, headers=auth["operator"]).json()["id"]
        result = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"]).json()
        received = fake.wait_finished()
    assert b"user\x00postgres" in received  # it did speak to the fake server
    assert SECRET.encode() not in received
    assert result["ok"] is False and result["error"].startswith("Authentication failed")
    assert "cleartext" in result["error"]


def test_md5_is_refused_unless_the_connection_allows_it(client, auth, stack_env):
    with FakeServer("md5") as fake:
        body = connection_body(stack_env, host="127.0.0.1", port=fake.port, password=SECRET)
        cid = client.post("/api/v1/connections", json=body, headers=auth["operator"]).json()["id"]
        refused = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"]).json()
        nothing_sent = fake.wait_finished(1)
        allowed = {**body, "name": body["name"] + "-md5", "options": {"sslmode": "prefer", "allow_md5": True}}
        cid = client.post("/api/v1/connections", json=allowed, headers=auth["operator"]).json()["id"]
        client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"])
        with_md5 = fake.wait_finished(2)
    assert refused["ok"] is False and refused["error"].startswith("Authentication failed")
    assert b"md5" not in nothing_sent
    assert b"md5" in with_md5[len(nothing_sent):]  # the opted-in connection answers with a salted hash...
    assert SECRET.encode() not in with_md5           # ...never with the password itself


def test_allowing_md5_still_never_allows_cleartext(client, auth, stack_env):
    with FakeServer("cleartext") as fake:
        body = connection_body(stack_env, host="127.0.0.1", port=fake.port, password=SECRET,
                               options={"sslmode": "prefer", "allow_md5": True})
        cid = client.post("/api/v1/connections", json=body, headers=auth["operator"]).json()["id"]
        result = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"]).json()
        assert SECRET.encode() not in fake.wait_finished()
    assert result["ok"] is False and result["error"].startswith("Authentication failed")


def _fake_endpoint(port: int, sslmode: str = "prefer") -> DatabaseEndpoint:
    return DatabaseEndpoint("postgresql", "127.0.0.1", port, "shop", "cdc", SECRET, "public", sslmode)


@pytest.mark.parametrize("opener", [
    lambda ep: open_connection(ep, 3),
    lambda ep: open_snapshot_reader(ep, "00000003-00000002-1", 3),
    lambda ep: slot_with_exported_snapshot(ep, "cdcflow_x", 3).__enter__(),
    lambda ep: PostgresSource(ep, 3).plain_snapshot().__enter__(),
    lambda ep: PostgresSource(ep, 3).slot_exists("cdcflow_x"),
    lambda ep: PostgresTarget(ep, 3).truncate([object()]),
], ids=["inspect", "full-load reader", "replication slot", "plain snapshot", "source catalog", "target"])
def test_every_engine_connection_refuses_cleartext(opener):
    """The copier, the replication connection and the adapters all take require_auth from libpq_kwargs."""
    with FakeServer("cleartext") as fake:
        with pytest.raises(Exception) as info:
            opener(_fake_endpoint(fake.port))
        received = fake.wait_finished()
    assert b"user\x00cdc" in received and SECRET.encode() not in received
    assert "cleartext" in str(info.value) or isinstance(info.value, EndpointUnreachable)


def test_no_engine_module_opens_a_database_connection_outside_libpq_kwargs():
    """A new psycopg.connect() to a source or target must go through DatabaseEndpoint.libpq_kwargs (require_auth,
    the address policy). Connections to cdcflow's own database (DATABASE_URL) and the demo tooling are exempt."""
    root = Path(cdcflow.__file__).parent
    exempt = {"events/store.py", "events/logger.py", "events/relay.py", "core/leader.py", "demo/seed.py",
              "demo/traffic.py"}
    offenders = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).as_posix()
        for call in re.findall(r"psycopg\.connect\(([^\n]*)", path.read_text()):
            if relative not in exempt and "libpq_kwargs(" not in call:
                offenders.append(f"{relative}: psycopg.connect({call}")
    assert offenders == []


def test_libpq_parameters_require_scram_and_keep_sslmode():
    kwargs = DatabaseEndpoint("postgresql", "db.example", 5432, "shop", "cdc", "pw", "public",
                              "verify-full").libpq_kwargs(5)
    assert kwargs["require_auth"] == "scram-sha-256" and kwargs["sslmode"] == "verify-full"
    md5 = DatabaseEndpoint("postgresql", "db.example", 5432, "shop", "cdc", "pw", allow_md5=True).libpq_kwargs(5)
    assert md5["require_auth"] == "scram-sha-256,md5"


# ---------------------------------------------------------------------------- cdcflow's own metadata database

@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2", "0.0.0.0", "::ffff:127.0.0.1"])
def test_the_metadata_database_can_never_be_registered(client, auth, stack_env, host):
    body = connection_body(stack_env, host=host, database="cdcflow")
    assert "database" in fields(client.post("/api/v1/connections", json=body, headers=auth["admin"]))


def test_an_update_cannot_point_a_connection_at_the_metadata_database(client, auth, stack_env, admin_connection):
    body = {"database": "cdcflow", "password": connection_body(stack_env)["password"]}
    response = client.put(f"/api/v1/connections/{admin_connection['id']}", json=body, headers=auth["admin"])
    assert "not allowed by policy" in fields(response)["database"]


def test_a_stored_row_pointing_at_the_metadata_database_is_refused_at_connect(client, auth, stack_env,
                                                                             admin_connection):
    """A row written before the rule existed (or by hand) still cannot be used to browse cdcflow's tables."""
    cid = admin_connection["id"]
    with connect(stack_env["DATABASE_URL"]) as meta:
        meta.execute("UPDATE connections SET database = 'cdcflow' WHERE id = %s", (cid,))
    tables = client.get(f"/api/v1/connections/{cid}/tables", headers=auth["admin"])
    assert tables.status_code == 422 and "not allowed by policy" in tables.json()["error"]["message"]
    assert "refresh_tokens" not in tables.text and "users" not in tables.text
    columns = client.get(f"/api/v1/connections/{cid}/tables/public/users/columns", headers=auth["admin"])
    assert columns.status_code == 422 and "password_hash" not in columns.text
    result = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"]).json()
    assert result["ok"] is False and result["error"].startswith("Not allowed by policy")
