"""Row history against the real stack: the API server's event logger stores Debezium's changes; GET
/pipelines/{id}/row-history gives one row's insert, updates (with the changed columns) and delete, in order, and
nothing of its neighbours. Bad input is a 422 in the app's error shape; a pipeline one may not see is a 404."""

import pytest

from tests.access_support import make_user
from tests.engine_support import E2E
from tests.support import connect, wait_until

pytestmark = pytest.mark.timeout(600)


def history(client, headers, pid: str, table: str, key: str):
    return client.get(f"/api/v1/pipelines/{pid}/row-history", params={"table": table, "key": key}, headers=headers)


def test_row_history_lists_exactly_one_rows_changes_in_order(client, auth, stack_env, grant):
    env = E2E(client, auth["operator"], stack_env, 0, share=lambda pid: grant("pipelines", pid, "viewer"))
    pids: list[str] = []
    try:
        pid = env.create_pipeline("cdc_only", tables=("customers",))
        pids.append(pid)
        env.action(pid, "start")
        env.wait_status(pid, "RUNNING")
        table = f"{env.schema}.customers"
        env.source.execute(f"INSERT INTO {table} VALUES (7, 'a@x.io', true, date '2001-01-01', 1.5), "
                           f"(8, 'neighbour@x.io', true, null, 0)")
        env.source.execute(f"UPDATE {table} SET email = 'b@x.io' WHERE id = 7")
        env.source.execute(f"UPDATE {table} SET active = false, balance = 2.5 WHERE id = 7")
        env.source.execute(f"UPDATE {table} SET email = 'n2@x.io' WHERE id = 8")
        env.source.execute(f"DELETE FROM {table} WHERE id = 7")

        def complete():
            r = history(client, auth["viewer"], pid, table, "7")
            return r.json() if r.status_code == 200 and len(r.json()["items"]) >= 4 else None

        body = wait_until(complete, 90, what="4 changes of row 7")
        items = body["items"]
        assert body["key"] == {"id": 7}
        assert [i["event_type"] for i in items] == ["insert", "update", "update", "delete"]
        assert [i["id"] for i in items] == sorted(i["id"] for i in items)
        assert items[0]["after"]["email"] == "a@x.io" and items[0]["before"] is None
        assert items[1]["changed"] == ["email"]
        assert items[1]["before"]["email"] == "a@x.io" and items[1]["after"]["email"] == "b@x.io"
        assert sorted(items[2]["changed"]) == ["active", "balance"]
        assert items[3]["before"]["id"] == 7 and items[3]["after"] is None
        assert body["exists"] is False and body["latest"] is None
        assert all(i["source_lsn"] and i["tx_id"] and i["kafka_topic"] for i in items)
        # The same row asked for with its key as an object; the neighbour has its own history only.
        assert history(client, auth["viewer"], pid, table, '{"id": 7}').json()["items"] == items
        neighbour = wait_until(lambda: r if len((r := history(client, auth["viewer"], pid, table, "8").json())
                                                ["items"]) >= 2 else None, 60, what="row 8")
        assert [i["event_type"] for i in neighbour["items"]] == ["insert", "update"]
        assert neighbour["exists"] is True and neighbour["latest"]["email"] == "n2@x.io"
        assert history(client, auth["viewer"], pid, table, "999").json()["items"] == []

        # The timeline is one index range scan, not a scan of the event log.
        with connect(stack_env["DATABASE_URL"]) as meta:
            meta.execute("SET enable_seqscan = off")
            plan = "\n".join(r[0] for r in meta.execute(
                "EXPLAIN SELECT id FROM pipeline_runs WHERE pipeline_id = %s AND run_type = 'CDC' AND "
                "deleted_at IS NULL AND table_name = %s AND row_key = '{\"id\": 7}'::jsonb ORDER BY id",
                (pid, table)).fetchall())
            assert "uq_pipeline_runs_event_identity" in plan, plan
            # run_metadata keeps the key too (the inspector reads it there): the row's key column is its copy.
            assert meta.execute("SELECT count(*) FROM pipeline_runs WHERE pipeline_id = %s AND run_type = 'CDC' AND "
                                "row_key IS DISTINCT FROM run_metadata -> 'key'", (pid,)).fetchone()[0] == 0

        # Bad input: the app's error shape, never a 500.
        for params in ({"table": table, "key": "[1]"}, {"table": "no dots", "key": "7"},
                       {"table": table, "key": "{}"}, {"table": f"{env.schema}.never", "key": "7"}):
            r = client.get(f"/api/v1/pipelines/{pid}/row-history", params=params, headers=auth["viewer"])
            assert r.status_code == 422, (params, r.text)
            assert r.json()["error"]["code"] == "validation_error"
        # Someone who may not see the pipeline: the same 404 as a missing one.
        stranger = make_user(client, auth["admin"], "viewer", "history-stranger")
        r = history(client, stranger.headers, pid, table, "7")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    finally:
        env.close(pids)
