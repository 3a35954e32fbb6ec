"""Issue 23, finding 6: GET /metrics with a user's access token shows only the pipelines that user may see; the
metrics token (Prometheus) and admins see every pipeline."""

import os
import uuid

import pytest

from tests.access_support import make_user, set_grant
from tests.test_connections import connection_body


@pytest.fixture(scope="module")
def owned(client, auth, stack_env):
    owner = make_user(client, auth["admin"], "operator", "i23-metrics")
    ids = {}
    for kind, database in (("source", "demo_source"), ("target", "demo_target")):
        created = client.post("/api/v1/connections", json=connection_body(stack_env, kind, database),
                              headers=owner.headers)
        ids[kind] = created.json()["id"]
    name = f"i23-metrics-{uuid.uuid4().hex[:8]}"
    pipeline = client.post("/api/v1/pipelines", headers=owner.headers, json={
        "name": name, "mode": "full_load_only", "tables": ["shop.customers"],
        "source_connection_id": ids["source"], "target_connection_id": ids["target"]})
    assert pipeline.status_code == 201, pipeline.text
    yield owner, pipeline.json()
    client.delete(f"/api/v1/pipelines/{pipeline.json()['id']}", headers=owner.headers)


def scrape(client, token: str) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text[:200]
    return response.text


def test_a_user_token_sees_only_its_pipelines(client, auth, owned):
    owner, pipeline = owned
    series = f'cdcflow_pipeline_up{{pipeline="{pipeline["name"]}"'
    other = make_user(client, auth["admin"], "operator", "i23-metrics-other")
    viewer = make_user(client, auth["admin"], "viewer", "i23-metrics-viewer")
    assert series in scrape(client, owner.token)
    assert series in scrape(client, auth["admin"]["Authorization"].split(" ", 1)[1])
    assert series in scrape(client, os.environ["CDCFLOW_METRICS_TOKEN"])
    for user in (other, viewer):
        text = scrape(client, user.token)
        assert pipeline["name"] not in text and pipeline["id"] not in text
        assert "# TYPE cdcflow_pipeline_up gauge" in text  # the families are there, without other people's series
    set_grant(client, auth["admin"], "pipelines", pipeline["id"], viewer.id, "view")
    assert series in scrape(client, viewer.token)
