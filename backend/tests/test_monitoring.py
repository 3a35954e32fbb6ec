"""Monitoring: dashboard counters equal the seed's aggregation (through soft deletes and purges), keyset pages,
lag that grows while paused and shrinks after resume, sync-stats match/mismatch, Prometheus text."""

import json
import time
import uuid

import httpx
import psycopg
import pytest

from tests.engine_support import E2E
from tests.support import wait_until

pytestmark = pytest.mark.timeout(600)

SEED_COUNTS = """
SELECT CASE
         WHEN run_metadata->>'event_type' IN ('insert', 'i', 'c', 'create', 'r') THEN 'insert'
         WHEN run_metadata->>'event_type' IN ('update', 'u') THEN 'update'
         WHEN run_metadata->>'event_type' IN ('delete', 'd', 'remove') THEN 'delete'
       END AS event_type, count(*)
FROM pipeline_runs
WHERE run_type = 'CDC' AND deleted_at IS NULL AND pipeline_id = %s
GROUP BY 1
"""


@pytest.fixture
def e2e(client, auth, stack_env, grant):
    # The operator owns what it creates; the viewer reads these pipelines through a grant.
    env = E2E(client, auth["operator"], stack_env, 200, share=lambda pid: grant("pipelines", pid, "viewer"))
    env.pipelines = []
    yield env
    env.close(env.pipelines)


def seed_counts(stack_env, pipeline_id: str) -> dict:
    with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
        rows = dict(conn.execute(SEED_COUNTS, (pipeline_id,)).fetchall())
    return {"insert": rows.get("insert", 0), "update": rows.get("update", 0), "delete": rows.get("delete", 0),
            "total": sum(rows.values())}


def dashboard_counts(client, headers, pipeline_id: str) -> dict:
    d = client.get("/api/v1/monitoring/dashboard", params={"pipeline_id": pipeline_id}, headers=headers).json()
    return {"insert": d["insert_count"], "update": d["update_count"], "delete": d["delete_count"],
            "total": d["total_events"]}


def insert_events(stack_env, pipeline_id: str, n: int, days_ago: float = 0, start_offset: int = 0) -> None:
    ops = ["c", "r", "u", "d", "c"]
    kinds = {"c": "insert", "r": "insert", "u": "update", "d": "delete"}
    topic = f"synthetic.{pipeline_id}"
    with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO pipeline_runs (pipeline_id, run_type, status, event_type, table_name, latency_ms, "
                "kafka_topic, kafka_partition, kafka_offset, started_at, run_metadata) VALUES "
                "(%s, 'CDC', 'captured', %s, %s, %s, %s, 0, %s, now() - make_interval(secs => %s), %s)",
                [(pipeline_id, kinds[ops[i % 5]], f"public.t{i % 3}", 10 + i % 50, topic, start_offset + i,
                  days_ago * 86400, json.dumps({"op": ops[i % 5], "event_type": kinds[ops[i % 5]]}))
                 for i in range(n)])


def test_dashboard_counts_equal_the_seed_query_through_soft_deletes_and_purges(client, auth, stack_env, e2e):
    pid = e2e.create_pipeline("full_load_only")
    e2e.pipelines.append(pid)
    insert_events(stack_env, pid, 500)
    insert_events(stack_env, pid, 300, days_ago=10, start_offset=500)
    assert dashboard_counts(client, auth["viewer"], pid) == seed_counts(stack_env, pid)
    assert seed_counts(stack_env, pid)["total"] == 800

    with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
        conn.execute("UPDATE pipeline_runs SET deleted_at = now() WHERE pipeline_id = %s AND kafka_offset %% 7 = 0",
                     (pid,))
    after_soft_delete = seed_counts(stack_env, pid)
    assert after_soft_delete["total"] < 800
    assert dashboard_counts(client, auth["viewer"], pid) == after_soft_delete

    purged = client.post("/api/v1/monitoring/retention/purge", params={"older_than_days": 5},
                         headers=auth["admin"])
    assert purged.status_code == 200 and purged.json()["deleted"] >= 300 - 300 // 7 - 1
    after_purge = seed_counts(stack_env, pid)
    assert dashboard_counts(client, auth["viewer"], pid) == after_purge
    assert after_purge["total"] == 500 - len(range(0, 500, 7))
    assert client.post("/api/v1/monitoring/retention/purge", params={"older_than_days": 5},
                       headers=auth["operator"]).status_code == 403


def test_events_are_paged_by_keyset_with_filters(client, auth, stack_env, e2e):
    pid = e2e.create_pipeline("full_load_only")
    e2e.pipelines.append(pid)
    insert_events(stack_env, pid, 120)
    first = client.get("/api/v1/monitoring/events", params={"pipeline_id": pid, "limit": 50},
                       headers=auth["viewer"]).json()
    second = client.get("/api/v1/monitoring/events", params={"pipeline_id": pid, "limit": 50,
                                                             "before_id": first["next_before_id"]},
                        headers=auth["viewer"]).json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 100
    deletes = client.get("/api/v1/monitoring/events", params={"pipeline_id": pid, "event_type": "delete",
                                                              "table": "public.t0", "limit": 1000},
                         headers=auth["viewer"]).json()["items"]
    assert deletes and all(e["event_type"] == "delete" and e["table_name"] == "public.t0" for e in deletes)
    series = client.get("/api/v1/monitoring/timeseries", params={"pipeline_id": pid, "bucket": "minute"},
                        headers=auth["viewer"]).json()
    assert sum(p["insert"] + p["update"] + p["delete"] for p in series["points"]) == 120


def lag_bytes(client, headers, pid: str) -> int:
    response = client.get(f"/api/v1/monitoring/pipelines/{pid}/lsn-latency", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["lag_bytes"]


def test_lag_grows_while_paused_under_writes_and_shrinks_after_resume(client, auth, e2e):
    pid = e2e.create_pipeline("cdc_only", tables=("customers",))
    e2e.pipelines.append(pid)
    e2e.action(pid, "start")
    e2e.wait_status(pid, "RUNNING")
    e2e.action(pid, "pause", 200)
    time.sleep(2)
    readings = []
    for round_ in range(3):
        e2e.source.execute(f"UPDATE {e2e.schema}.customers SET balance = balance + 1")
        time.sleep(1)
        readings.append(lag_bytes(client, auth["viewer"], pid))
    assert readings[0] > 0 and readings[0] < readings[1] < readings[2], readings
    e2e.action(pid, "resume", 200)
    wait_until(lambda: lag_bytes(client, auth["viewer"], pid) < readings[-1] // 2, 90, what="lag shrinking")
    e2e.wait_converged(tables=("customers",))
    details = client.get(f"/api/v1/monitoring/pipelines/{pid}/lsn-latency", headers=auth["viewer"]).json()
    assert details["slot_exists"] and details["wal_status"] in ("reserved", "extended")
    assert details["latency"]["sample"] >= 0


def test_sync_stats_match_and_mismatch(client, auth, e2e):
    pid = e2e.create_pipeline("full_load_and_cdc")
    e2e.pipelines.append(pid)
    e2e.action(pid, "start")
    e2e.wait_status(pid, "RUNNING")
    e2e.wait_converged()
    ok = client.post(f"/api/v1/pipelines/{pid}/sync-stats", headers=auth["operator"]).json()
    assert ok["match"] is True and all(t["match"] for t in ok["tables"])
    assert {t["table"]: t["source_rows"] for t in ok["tables"]} == {"items": 200, "customers": 200,
                                                                    "order_lines": 400}
    e2e.target.execute(f"UPDATE {e2e.schema}.customers SET email = 'tampered@x' WHERE id = 7")
    bad = client.post(f"/api/v1/pipelines/{pid}/sync-stats", headers=auth["operator"]).json()
    assert bad["match"] is False
    verdict = {t["table"]: t["match"] for t in bad["tables"]}
    assert verdict == {"items": True, "customers": False, "order_lines": True}


def test_prometheus_metrics_are_served_as_text():
    import os

    response = httpx.get(f"{os.environ['CDCFLOW_API_URL']}/metrics", timeout=10,
                         headers={"Authorization": f"Bearer {os.environ['CDCFLOW_METRICS_TOKEN']}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    for name in ("cdcflow_pipeline_up", "cdcflow_events_total", "cdcflow_event_logger_up",
                 "cdcflow_replication_lag_bytes"):
        assert f"# TYPE {name} " in response.text


def test_unknown_pipeline_is_404_on_monitoring(client, auth):
    missing = str(uuid.uuid4())
    assert client.get("/api/v1/monitoring/dashboard", params={"pipeline_id": missing},
                      headers=auth["viewer"]).status_code == 404
    assert client.get(f"/api/v1/monitoring/pipelines/{missing}/lsn-latency",
                      headers=auth["viewer"]).status_code == 404
