"""Issue 23, finding 11 (found by reading the code): the last-admin check locks the admins' rows, so two admins
demoting each other at once cannot both succeed; only admins restart the shared event logger; the replay audit row
keeps the row's key readable; /healthz does not tell the version. (Logs being mode 600:
tests/test_i23_stack_hygiene.py.)"""

import threading

import psycopg
import pytest

from cdcflow import __version__
from tests.access_support import make_user
from tests.security.test_i23_f7_replay import replay, world  # noqa: F401  (the fixture)
from tests.support import wait_until

pytestmark = pytest.mark.timeout(120)


def test_the_last_admin_check_waits_for_other_admins_rows(client, auth, stack_env):
    admin = auth["admin"]
    demoter = make_user(client, admin, "admin", "i23-admin-a")
    target = make_user(client, admin, "admin", "i23-admin-b")
    bystander = make_user(client, admin, "admin", "i23-admin-c")
    done: dict = {}
    with psycopg.connect(stack_env["DATABASE_URL"]) as holder:
        # Another transaction holds an admin row that the demotion does not write: only a check that locks every
        # admin's row (to count them safely) has to wait for it.
        holder.execute("SELECT id FROM users WHERE id = %s FOR UPDATE", (bystander.id,))
        worker = threading.Thread(target=lambda: done.update(response=client.put(
            f"/api/v1/users/{target.id}", json={"role": "operator"}, headers=demoter.headers)))
        worker.start()
        try:
            with psycopg.connect(stack_env["DATABASE_URL"], autocommit=True) as watcher:
                wait_until(lambda: watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = "
                    "current_database() AND query ILIKE '%%FROM users%%FOR UPDATE%%'").fetchone()[0] > 0,
                    20, what="the demotion to wait for the admins' row locks")
        finally:
            holder.rollback()
            worker.join(30)
    assert done["response"].status_code == 200, done["response"].text


def test_only_admins_restart_the_event_logger(client, auth):
    refused = client.post("/api/v1/monitoring/event-logger/restart", headers=auth["operator"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden", refused.text


def test_the_replay_audit_row_keeps_the_key(client, auth, stack_env, world):  # noqa: F811
    assert replay(client, auth, world, "mariadb_target", {"id": 1}).status_code == 200
    with psycopg.connect(stack_env["DATABASE_URL"]) as meta:
        details = meta.execute("SELECT details FROM audit_log WHERE action = 'pipeline.replay_row' AND target = %s "
                               "ORDER BY id DESC LIMIT 1",
                               (f"pipeline:{world['pipelines']['mariadb_target']}",)).fetchone()
    assert details is not None, "no audit row"
    assert details[0]["row"] == {"id": 1} and "***" not in str(details[0]), details


def test_healthz_does_not_tell_the_version(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert __version__ not in response.text
