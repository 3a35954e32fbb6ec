"""Finding 3: outbound connections go only where policy allows, and the Test button is no port scanner."""

import ipaddress
import os
import uuid

import pytest

from cdcflow.core.config import Settings
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.outbound import AllowList, OutboundPolicy, OutboundRefused
from cdcflow.engine.postgres.inspect import EndpointUnreachable, open_connection
from tests.pgcluster import free_port
from tests.security.support import BANNER, FakeServer, api
from tests.security.test_f1_password_redirect import fields
from tests.support import connect, dsn_for
from tests.test_connections import connection_body


def own_ports() -> dict[str, int]:
    return {"Kafka": int(os.environ["KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1]),
            "Kafka controller": int(os.environ["CDCFLOW_KAFKA_CONTROLLER_PORT"]),
            "Kafka Connect": int(os.environ["KAFKA_CONNECT_URL"].rsplit(":", 1)[1]),
            "API": int(os.environ["CDCFLOW_API_PORT"]), "web app": int(os.environ["CDCFLOW_WEB_PORT"])}


@pytest.mark.parametrize("service", ["Kafka", "Kafka controller", "Kafka Connect", "API", "web app"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0.0.0.0", "127.0.0.53", "::ffff:127.0.0.1"])
def test_cdcflows_own_service_ports_are_never_a_database(client, auth, stack_env, service, host):
    body = connection_body(stack_env, host=host, port=own_ports()[service])
    message = fields(client.post("/api/v1/connections", json=body, headers=auth["operator"]))["port"]
    assert "not allowed by policy" in message


def test_an_update_cannot_aim_a_connection_at_kafka_connect(client, auth, stack_env):
    cid = client.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["operator"]).json()["id"]
    body = {"port": own_ports()["Kafka Connect"], "password": connection_body(stack_env)["password"]}
    assert "port" in fields(client.put(f"/api/v1/connections/{cid}", json=body, headers=auth["operator"]))


@pytest.mark.parametrize("host", ["0x7f000001", "2130706433", "127.1", "0177.0.0.1", "127.000.000.001",
                                  "0x7f.0.0.1", "017700000001"])
def test_numeric_host_tricks_are_refused(client, auth, stack_env, host):
    body = connection_body(stack_env, host=host)
    assert "host" in fields(client.post("/api/v1/connections", json=body, headers=auth["operator"]))


def test_ipv6_spellings_are_stored_in_one_form(client, auth, stack_env):
    body = connection_body(stack_env, host="0:0:0:0:0:0:0:1")
    created = client.post("/api/v1/connections", json=body, headers=auth["operator"])
    assert created.status_code == 201, created.text
    assert created.json()["host"] == "::1"
    kafka = connection_body(stack_env, host="0:0:0:0:0:0:0:1", port=own_ports()["Kafka"])
    assert "port" in fields(client.post("/api/v1/connections", json=kafka, headers=auth["operator"]))


def test_a_host_that_does_not_resolve_is_refused_at_create(client, auth, stack_env):
    body = connection_body(stack_env, host=f"no-such-host-{uuid.uuid4().hex[:8]}.invalid")
    assert "resolved" in fields(client.post("/api/v1/connections", json=body, headers=auth["operator"]))["host"]


# ------------------------------------------------------------------------------------ CDCFLOW_ALLOWED_DB_HOSTS

def test_the_allow_list_is_checked_at_create_test_tables_and_start(auth, stack_env):
    demo = dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")
    with connect(demo) as db:  # the pipeline needs a real table in the source
        db.execute("CREATE TABLE IF NOT EXISTS public.policy_probe (id int PRIMARY KEY)")
    with api(CDCFLOW_ALLOWED_DB_HOSTS="*") as anywhere:
        source = anywhere.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["operator"])
        target = anywhere.post("/api/v1/connections", json=connection_body(stack_env, kind="target",
                                                                           database="demo_target"),
                               headers=auth["operator"])
        pipeline = anywhere.post("/api/v1/pipelines", headers=auth["operator"], json={
            "name": f"policy-{uuid.uuid4().hex[:8]}", "source_connection_id": source.json()["id"],
            "target_connection_id": target.json()["id"], "mode": "full_load_only", "tables": ["public.policy_probe"]})
        assert pipeline.status_code == 201, pipeline.text
    with api(CDCFLOW_ALLOWED_DB_HOSTS="10.0.0.0/8, db.example.com") as strict:
        created = strict.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["operator"])
        assert "CDCFLOW_ALLOWED_DB_HOSTS" in fields(created)["host"]
        test = strict.post(f"/api/v1/connections/{source.json()['id']}/test", headers=auth["operator"]).json()
        assert test["ok"] is False and test["error"].startswith("Not allowed by policy")
        tables = strict.get(f"/api/v1/connections/{source.json()['id']}/tables", headers=auth["operator"])
        assert tables.status_code == 422 and "shop" not in tables.text
        start = strict.post(f"/api/v1/pipelines/{pipeline.json()['id']}/start", headers=auth["operator"])
        assert start.status_code == 422 and "not allowed by policy" in start.json()["error"]["message"]
        status = strict.get(f"/api/v1/pipelines/{pipeline.json()['id']}", headers=auth["operator"]).json()["status"]
        assert status == "NOT_STARTED"
    with api(CDCFLOW_ALLOWED_DB_HOSTS=f"{stack_env['PG_HOST']}/32") as exact:
        created = exact.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["operator"])
        assert created.status_code == 201, created.text
        assert exact.post(f"/api/v1/connections/{created.json()['id']}/test",
                          headers=auth["operator"]).json()["ok"] is True


def test_a_bad_allow_list_stops_the_settings_not_every_connection():
    with pytest.raises(ValueError, match="CDCFLOW_ALLOWED_DB_HOSTS"):
        Settings(CDCFLOW_ALLOWED_DB_HOSTS="10.0.0.0/33")
    with pytest.raises(ValueError, match="CDCFLOW_ALLOWED_DB_HOSTS"):
        Settings(CDCFLOW_ALLOWED_DB_HOSTS="2130706433")


# ------------------------------------------------------------------------------------------- no port scanner

def test_refused_silent_and_banner_ports_look_the_same(auth, stack_env):
    """Refused, timed out and 'something else answers' give one message, no bytes of the banner, no address,
    and the same duration (the timeout), so the Test button tells nothing about what listens where."""
    timeout = 2
    results = {}
    with api(connection_test_timeout_seconds=timeout) as client, FakeServer("silent") as silent, \
            FakeServer("banner") as banner:
        for label, port in (("refused", free_port()), ("silent", silent.port), ("banner", banner.port)):
            body = connection_body(stack_env, port=port, name=f"scan-{label}-{uuid.uuid4().hex[:6]}")
            cid = client.post("/api/v1/connections", json=body, headers=auth["operator"]).json()["id"]
            response = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"])
            assert response.status_code == 200
            results[label] = response
    bodies = {label: r.json() for label, r in results.items()}
    assert {b["error"] for b in bodies.values()} == {"Could not connect to the server"}
    assert all(b["checks"] == [] and b["server_version"] is None and b["ok"] is False for b in bodies.values())
    for response in results.values():
        assert "SSH" not in response.text and BANNER.decode().split()[-1] not in response.text
        assert stack_env["PG_HOST"] not in response.text
    latencies = [b["latency_ms"] for b in bodies.values()]
    assert min(latencies) >= timeout * 1000 * 0.95, latencies
    assert max(latencies) - min(latencies) < 1500, latencies


# --------------------------------------------------------------------------------------------- unit: the policy

def fake_resolver(table: dict[str, list[str]]):
    return lambda host, port: [ipaddress.ip_address(a) for a in table.get(host, [])]


def policy(allowed: str = "*", table: dict[str, list[str]] | None = None) -> OutboundPolicy:
    settings = Settings(CDCFLOW_ALLOWED_DB_HOSTS=allowed, database_url="postgresql://u:p@meta.internal:5432/cdcflow",
                        kafka_bootstrap_servers="kafka.internal:9092", kafka_connect_url="http://127.0.0.1:8083",
                        CDCFLOW_API_PORT=8000, CDCFLOW_WEB_PORT=3000, CDCFLOW_KAFKA_CONTROLLER_PORT=9093)
    return OutboundPolicy.from_settings(settings, resolver=fake_resolver({
        "localhost": ["127.0.0.1", "::1"], "meta.internal": ["10.1.1.1"], "kafka.internal": ["10.2.2.2"],
        **(table or {})}))


def test_names_are_checked_on_the_addresses_they_resolve_to():
    p = policy(table={"sneaky.example": ["127.0.0.1"], "db.example": ["10.9.9.9"], "kafka-alias": ["10.2.2.2"],
                      "meta-alias": ["10.1.1.1"]})
    for host, port, database, field in (("sneaky.example", 8083, "x", "port"), ("kafka-alias", 9092, "x", "port"),
                                        ("meta-alias", 5432, "cdcflow", "database"),
                                        ("sneaky.example", 3000, "x", "port")):
        with pytest.raises(OutboundRefused) as info:
            p.check(host, port, database)
        assert info.value.field == field
    assert p.check("db.example", 5432, "cdcflow") == ("10.9.9.9",)
    assert p.check("meta-alias", 5432, "shop") == ("10.1.1.1",)       # same server, another database
    assert p.check("kafka-alias", 5432, "shop") == ("10.2.2.2",)      # same host, another port


def test_every_resolved_address_must_be_allowed():
    p = policy("10.0.0.0/8", table={"split.example": ["10.0.0.5", "192.168.1.5"], "db.example": ["10.0.0.7"]})
    with pytest.raises(OutboundRefused):
        p.check("split.example", 5432, "shop")
    assert p.check("db.example", 5432, "shop") == ("10.0.0.7",)


def test_allow_list_entries():
    rule = AllowList.parse("db.example.com, *.corp.example 10.0.0.0/8 192.168.1.7 2001:db8::/32")
    ip = ipaddress.ip_address
    assert rule.allows("db.example.com", ip("1.2.3.4"))
    assert rule.allows("pg.eu.corp.example", ip("1.2.3.4")) and not rule.allows("corp.example.evil", ip("1.2.3.4"))
    assert rule.allows("x", ip("10.20.30.40")) and rule.allows("x", ip("192.168.1.7"))
    assert not rule.allows("x", ip("192.168.1.8")) and rule.allows("x", ip("2001:db8::5"))
    assert AllowList.parse("").any_host and AllowList.parse("*").any_host


def test_libpq_connects_to_the_checked_address_not_to_its_own_lookup(stack_env):
    """hostaddr carries the addresses the policy checked and host keeps the name (for TLS), so libpq never
    resolves the name again: a DNS answer that changes between the check and the connect cannot redirect it.
    Proof: a name the system cannot resolve at all connects, because only the policy's resolver knows it."""
    p = policy(table={"pinned.invalid": [stack_env["PG_HOST"]]})
    password = connection_body(stack_env)["password"]
    endpoint = DatabaseEndpoint("postgresql", "pinned.invalid", int(stack_env["PG_PORT"]), "demo_source",
                                "postgres", password, guard=p)
    assert endpoint.libpq_kwargs(5)["hostaddr"] == stack_env["PG_HOST"]
    with open_connection(endpoint, 5) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "demo_source"
    with pytest.raises(EndpointUnreachable):   # without the pinned address libpq's own lookup fails
        open_connection(DatabaseEndpoint("postgresql", "pinned.invalid", int(stack_env["PG_PORT"]), "demo_source",
                                         "postgres", password), 5)


def test_a_name_with_several_addresses_pins_all_of_them():
    p = policy(table={"db.example": ["10.9.9.9", "2001:db8::9"]})
    kwargs = DatabaseEndpoint("postgresql", "db.example", 5432, "shop", "cdc", "pw", guard=p).libpq_kwargs(5)
    assert kwargs["host"] == "db.example,db.example" and kwargs["hostaddr"] == "10.9.9.9,2001:db8::9"
