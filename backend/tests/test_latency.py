"""Latency by stage (GET /monitoring/pipelines/{id}/latency): every figure read from where it happened, "unknown"
(null, with a note) when nothing was observed, and agreeing with what the source, Kafka and the target say."""

import uuid

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition

from tests.engine_support import E2E
from tests.support import wait_until

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def e2e(client, auth, stack_env, grant):
    env = E2E(client, auth["operator"], stack_env, 50, share=lambda pid: grant("pipelines", pid, "viewer"))
    env.pipelines = []
    yield env
    env.close(env.pipelines)


def stages(client, headers, pid: str) -> dict[str, dict]:
    response = client.get(f"/api/v1/monitoring/pipelines/{pid}/latency", headers=headers)
    assert response.status_code == 200, response.text
    return {s["stage"]: s for s in response.json()["stages"]}


def test_stage_latency_is_unknown_before_events_and_measured_after(client, auth, e2e, stack_env):
    # Loaded rows were written to the target before any change: their commit times must not count as a stage.
    pid = e2e.create_pipeline("full_load_and_cdc", tables=("customers",))
    e2e.pipelines.append(pid)
    e2e.action(pid, "start")
    e2e.wait_status(pid, "RUNNING")

    quiet = stages(client, auth["viewer"], pid)
    assert set(quiet) == {"source_to_kafka", "kafka_to_target", "source_to_target", "source_to_logger",
                          "source_to_stored", "source_to_socketio"}
    for stage in quiet.values():  # nothing observed yet: no figure, and a reason
        assert stage["count"] == 0 and stage["p50_ms"] is None and stage["p99_ms"] is None and stage["note"]

    for i in range(1, 21):  # 20 single-row transactions
        e2e.source.execute(f"UPDATE {e2e.schema}.customers SET balance = balance + 1 WHERE id = {i}")
    e2e.wait_converged(tables=("customers",))

    def all_observed():
        s = stages(client, auth["viewer"], pid)
        measured = ("source_to_kafka", "source_to_target", "kafka_to_target", "source_to_logger", "source_to_stored")
        return s if all(s[k]["count"] == 20 for k in measured) else None

    seen = wait_until(all_observed, 90, interval=1, what="every stage observed on the 20 changes")
    for stage in seen.values():
        if stage["count"]:
            assert 0 <= stage["p50_ms"] <= stage["p99_ms"], stage
    # The split adds up: no change reached the target before Kafka had it.
    assert seen["source_to_kafka"]["p50_ms"] <= seen["source_to_target"]["p99_ms"]
    assert seen["kafka_to_target"]["p99_ms"] <= seen["source_to_target"]["p99_ms"] + 1

    # Against the ground truth: the target's own commit time of row 20 minus the Kafka record's timestamp.
    with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
        topic, partition, offset, source_ms = conn.execute(
            "SELECT kafka_topic, kafka_partition, kafka_offset, (run_metadata->'source'->>'ts_ms')::float8 "
            "FROM pipeline_runs WHERE pipeline_id = %s AND (run_metadata->'key'->>'id')::int = 20",
            (pid,)).fetchone()
    committed = e2e.target.execute(f"SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000 "
                                   f"FROM {e2e.schema}.customers WHERE id = 20").fetchone()[0]
    consumer = Consumer({"bootstrap.servers": stack_env["KAFKA_BOOTSTRAP_SERVERS"], "group.id": f"t-{uuid.uuid4()}",
                         "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, partition, offset)])
        msg = wait_until(lambda: next(iter(consumer.consume(1, 1.0)), None), 30, interval=0, what="the record")
    finally:
        consumer.close()
    kafka_ms = msg.timestamp()[1]
    one = (float(committed) - kafka_ms, kafka_ms - source_ms)
    assert one[0] >= 0 and one[1] >= 0
    # Row 20's figures lie within what the endpoint reports for its 20 changes.
    assert one[1] <= seen["source_to_kafka"]["p99_ms"] + 1
    assert one[0] <= seen["kafka_to_target"]["p99_ms"] + 1


def test_latency_of_an_unknown_or_hidden_pipeline_is_404(client, auth):
    missing = str(uuid.uuid4())
    response = client.get(f"/api/v1/monitoring/pipelines/{missing}/latency", headers=auth["viewer"])
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
