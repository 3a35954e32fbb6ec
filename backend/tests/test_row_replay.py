"""Replaying one row onto the target, against the real source and target databases: the row the source holds now
is upserted (every column type of the e2e schema round-trips exactly), a row the source no longer has is deleted,
a column only the target has keeps its value, a composite key works, and bad input is a 422 in the app's shape."""

import pytest

from tests.engine_support import E2E, SCHEMA_DDL
from tests.support import connect, table_fingerprint

pytestmark = pytest.mark.timeout(300)


def test_replay_repairs_one_row_on_the_target(client, auth, stack_env, grant):
    env = E2E(client, auth["operator"], stack_env, 5, share=lambda pid: grant("pipelines", pid, "viewer"))
    pids: list[str] = []
    s = env.schema
    try:
        pid = env.create_pipeline("cdc_only")
        pids.append(pid)
        # The target as a broken pipeline might leave it: row 1 diverged, row 2 missing, row 9 deleted on the source
        # but still here; customers has a column of the target's own.
        env.target.execute(f"CREATE SCHEMA {s}")
        env.target.execute(SCHEMA_DDL.format(s=s))
        env.target.execute(f"ALTER TABLE {s}.customers ADD COLUMN note text")
        for table in ("items", "customers", "order_lines"):  # the source's rows, copied as they are
            columns = ", ".join(d.name for d in env.source.execute(f"SELECT * FROM {s}.{table} LIMIT 0").description)
            with env.source.cursor().copy(f"COPY {s}.{table} TO STDOUT") as out, \
                    env.target.cursor().copy(f"COPY {s}.{table} ({columns}) FROM STDIN") as into:
                for data in out:
                    into.write(data)
        env.target.execute(f"UPDATE {s}.items SET name = 'wrong', price = -1, attrs = '{{}}', payload = NULL, "
                           f"tags = '{{}}' WHERE id = 1")
        env.target.execute(f"DELETE FROM {s}.items WHERE id = 2")
        env.target.execute(f"INSERT INTO {s}.items (id, name) VALUES (9, 'gone at the source')")
        env.target.execute(f"UPDATE {s}.customers SET balance = 0, note = 'kept' WHERE id = 3")
        env.target.execute(f"UPDATE {s}.order_lines SET qty = -5 WHERE order_id = 4 AND line_no = 2")
        assert table_fingerprint(env.target, f"{s}.items") != table_fingerprint(env.source, f"{s}.items")

        def replay(table: str, key: dict, headers=auth["operator"]):
            return client.post(f"/api/v1/pipelines/{pid}/row-history/replay", json={"table": f"{s}.{table}",
                                                                                     "key": key}, headers=headers)

        first = replay("items", {"id": 1})
        assert first.status_code == 200, first.text
        assert first.json()["action"] == "upserted" and first.json()["row"]["name"] == "item 1"
        assert replay("items", {"id": 2}).json()["action"] == "upserted"
        assert replay("items", {"id": 9}).json()["action"] == "deleted"
        assert replay("items", {"id": 9}).json() | {"row": None} == {
            "pipeline_id": pid, "table": f"{s}.items", "key": {"id": 9}, "action": "absent", "row": None}
        # Every type (numeric, timestamptz, jsonb, bytea, arrays, 20 kB text) came across exactly.
        assert table_fingerprint(env.target, f"{s}.items") == table_fingerprint(env.source, f"{s}.items")

        assert replay("customers", {"id": 3}).json()["action"] == "upserted"
        balance, note = env.target.execute(f"SELECT balance, note FROM {s}.customers WHERE id = 3").fetchone()
        assert balance == env.source.execute(f"SELECT balance FROM {s}.customers WHERE id = 3").fetchone()[0]
        assert note == "kept", "a column the source does not have was overwritten"

        assert replay("order_lines", {"order_id": 4, "line_no": 2}).json()["action"] == "upserted"
        assert table_fingerprint(env.target, f"{s}.order_lines", "order_id, line_no") == \
            table_fingerprint(env.source, f"{s}.order_lines", "order_id, line_no")

        # Bad input: the app's error shape naming the field; a viewer may look but not replay.
        for body in ({"table": f"{s}.items", "key": {"nope": 1}}, {"table": "public.not_in_pipeline", "key": {"id": 1}},
                     {"table": f"{s}.items", "key": {}}, {"table": "no dots", "key": {"id": 1}},
                     {"table": f"{s}.items", "key": {"id": [1]}}, {"table": f"{s}.items", "key": {"id": 1}, "x": 1},
                     {"table": f"{s}.order_lines", "key": {"order_id": 4}}):
            r = client.post(f"/api/v1/pipelines/{pid}/row-history/replay", json=body, headers=auth["operator"])
            assert r.status_code == 422, (body, r.text)
            assert r.json()["error"]["code"] == "validation_error", r.text
        assert replay("items", {"id": 1}, auth["viewer"]).status_code == 403

        with connect(stack_env["DATABASE_URL"]) as meta:
            actions = meta.execute("SELECT details ->> 'action' FROM audit_log WHERE action = 'pipeline.replay_row' "
                                   "AND target = %s ORDER BY id", (f"pipeline:{pid}",)).fetchall()
        assert [a for (a,) in actions] == ["upserted", "upserted", "deleted", "absent", "upserted", "upserted"]
    finally:
        env.close(pids)
