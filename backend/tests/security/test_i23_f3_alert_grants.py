"""Issue 23, finding 3: alert channels and rules have an owner and grants like pipelines. An operator neither sees
nor edits another operator's channel or rule until granted, cannot attach a channel they may not operate, and a
rule only ever watches what its owner may see (its webhook never hears of other pipelines, `firing` does not count
them)."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cdcflow.alerts.evaluator import AlertEvaluator
from cdcflow.alerts.rules import Observations, PipelineObservation
from cdcflow.core.db import session_scope
from cdcflow.models import AlertEvent, AlertRule
from tests.access_support import make_user, set_grant
from tests.test_connections import connection_body

MISSING_CHANNEL = {"error": {"code": "not_found", "message": "Alert channel not found", "details": {}}}
MISSING_RULE = {"error": {"code": "not_found", "message": "Alert rule not found", "details": {}}}


class Operator:
    """An operator with a channel, a rule for every pipeline (pipeline_error) and a pipeline of their own."""

    def __init__(self, client, admin, stack_env, label: str) -> None:
        self.client, self.user = client, make_user(client, admin, "operator", label)
        self.headers = self.user.headers
        self.channel = self._post("channels", {"name": f"i23-{label}-{uuid.uuid4().hex[:6]}", "kind": "slack",
                                               "url": f"https://hooks.example.invalid/{label}"})
        self.rule = self._post("rules", {"name": f"i23-{label}-{uuid.uuid4().hex[:6]}", "kind": "pipeline_error",
                                         "channel_ids": [self.channel["id"]]})
        source = self._post("/connections", connection_body(stack_env))
        target = self._post("/connections", connection_body(stack_env, "target", "demo_target"))
        self.pipeline = self._post("/pipelines", {
            "name": f"i23-{label}-{uuid.uuid4().hex[:6]}", "mode": "full_load_only", "tables": ["shop.customers"],
            "source_connection_id": source["id"], "target_connection_id": target["id"]})

    def _post(self, path: str, body: dict) -> dict:
        url = f"/api/v1{path}" if path.startswith("/") else f"/api/v1/alerts/{path}"
        created = self.client.post(url, json=body, headers=self.headers)
        assert created.status_code == 201, created.text
        return created.json()

    def cleanup(self) -> None:
        self.client.delete(f"/api/v1/alerts/rules/{self.rule['id']}", headers=self.headers)
        self.client.delete(f"/api/v1/alerts/channels/{self.channel['id']}", headers=self.headers)
        self.client.delete(f"/api/v1/pipelines/{self.pipeline['id']}", headers=self.headers)


@pytest.fixture(scope="module")
def two(client, auth, stack_env):
    a = Operator(client, auth["admin"], stack_env, "alert-a")
    b = Operator(client, auth["admin"], stack_env, "alert-b")
    yield a, b
    a.cleanup()
    b.cleanup()


def test_another_operators_channel_and_rule_are_invisible_until_granted(client, auth, two):
    a, b = two
    channel, rule = f"/api/v1/alerts/channels/{b.channel['id']}", f"/api/v1/alerts/rules/{b.rule['id']}"
    listed = client.get("/api/v1/alerts/channels", headers=a.headers).json()["items"]
    assert b.channel["id"] not in {c["id"] for c in listed} and a.channel["id"] in {c["id"] for c in listed}
    rules = client.get("/api/v1/alerts/rules", headers=a.headers).json()["items"]
    assert b.rule["id"] not in {r["id"] for r in rules}
    for method, url, body in (("GET", channel, None), ("PUT", channel, {"url": "https://attacker.example/x"}),
                              ("DELETE", channel, None), ("POST", channel + "/test", None)):
        response = client.request(method, url, json=body, headers=a.headers)
        assert (response.status_code, response.json()) == (404, MISSING_CHANNEL), f"{method} {url}"
    for method, body in (("GET", None), ("PUT", {"channel_ids": [a.channel["id"]]}), ("DELETE", None)):
        response = client.request(method, rule, json=body, headers=a.headers)
        assert (response.status_code, response.json()) == (404, MISSING_RULE), f"{method} {rule}"
    # Nor can A send their own rule's notifications to B's channel.
    attach = client.put(f"/api/v1/alerts/rules/{a.rule['id']}", json={"channel_ids": [b.channel["id"]]},
                        headers=a.headers)
    assert attach.status_code == 422 and attach.json()["error"]["details"]["missing"] == [b.channel["id"]]

    # view: seen, not changed, not attached; manage: changed.
    set_grant(client, auth["admin"], "alerts/channels", b.channel["id"], a.user.id, "view")
    set_grant(client, auth["admin"], "alerts/rules", b.rule["id"], a.user.id, "view")
    assert client.get(channel, headers=a.headers).json()["owner_id"] == b.user.id
    assert client.get(rule, headers=a.headers).json()["owner_id"] == b.user.id
    for method, url, body in (("PUT", channel, {"url": "https://attacker.example/x"}), ("DELETE", channel, None),
                              ("PUT", rule, {"channel_ids": []}), ("DELETE", rule, None)):
        refused = client.request(method, url, json=body, headers=a.headers)
        assert refused.status_code == 403 and refused.json()["error"]["details"] == {
            "needed": "manage", "have": "view"}, f"{method} {url}: {refused.text}"
    assert client.post(channel + "/test", headers=a.headers).status_code == 403
    attach = client.put(f"/api/v1/alerts/rules/{a.rule['id']}", json={"channel_ids": [b.channel["id"]]},
                        headers=a.headers)
    assert attach.status_code == 403 and attach.json()["error"]["details"]["needed"] == "operate"
    set_grant(client, auth["admin"], "alerts/rules", b.rule["id"], a.user.id, "manage")
    renamed = client.put(rule, json={"name": b.rule["name"] + "-x"}, headers=a.headers)
    assert renamed.status_code == 200, renamed.text
    # The grants API stays admin-only, like the pipelines' one.
    assert client.get(channel + "/grants", headers=a.headers).status_code == 403
    assert client.get(channel + "/grants", headers=auth["admin"]).json()["grants"][0]["level"] == "view"


def test_a_rule_for_every_pipeline_fires_only_on_what_its_owner_may_see(client, app, two):
    a, b = two
    ui_url = app.state.settings.ui_url
    evaluator = AlertEvaluator(app.state.session_factory, observer=None, ui_url=ui_url, interval=60)
    both = Observations([PipelineObservation(uuid.UUID(o.pipeline["id"]), o.pipeline["name"], "ERROR")
                         for o in (a, b)], None)
    with session_scope(app.state.session_factory) as session:
        evaluator.evaluate(session, session.get(AlertRule, uuid.UUID(a.rule["id"])), both, datetime.now(UTC))
    with session_scope(app.state.session_factory) as session:
        fired = session.scalars(select(AlertEvent.pipeline_name).where(
            AlertEvent.rule_id == uuid.UUID(a.rule["id"]), AlertEvent.resolved_at.is_(None))).all()
    assert fired == [a.pipeline["name"]]
    assert client.get(f"/api/v1/alerts/rules/{a.rule['id']}", headers=a.headers).json()["firing"] == 1
    history = client.get("/api/v1/alerts/history", params={"rule_id": a.rule["id"]}, headers=a.headers).json()
    assert [e["pipeline_name"] for e in history["items"]] == [a.pipeline["name"]]
