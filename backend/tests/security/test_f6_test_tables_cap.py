"""Finding 6 (part): the connection Test's `tables` list is bounded in count and length, and so is its echo."""

import pytest

from tests.test_connections import connection_body


@pytest.fixture(scope="module")
def source_id(client, auth, stack_env):
    created = client.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["operator"])
    assert created.status_code == 201, created.text
    return created.json()["id"]


def run_test(client, auth, source_id, tables):
    return client.post(f"/api/v1/connections/{source_id}/test", json={"tables": tables}, headers=auth["operator"])


@pytest.mark.parametrize("tables", [
    [f"public.t{i}" for i in range(501)],                 # more than a pipeline may select
    ["public." + "x" * 200],                              # longer than schema.table can be
    ["public.orders\x00"], ["no_schema"], ["public.a;drop"], [""],
], ids=["501 items", "200-char name", "NUL", "no schema", "semicolon", "empty"])
def test_oversized_or_malformed_lists_are_422(client, auth, source_id, tables):
    response = run_test(client, auth, source_id, tables)
    assert response.status_code == 422, response.text[:300]
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["details"]["fields"][0]["loc"][:2] == ["body", "tables"]
    assert len(response.content) < 2000  # the rejected names are not echoed back


def test_the_largest_accepted_list_gets_a_bounded_answer(client, auth, source_id):
    names = [f"public.missing_{i:03d}_{'y' * 40}" for i in range(500)]
    response = run_test(client, auth, source_id, names)
    assert response.status_code == 200, response.text[:300]
    detail = {c["name"]: c["detail"] for c in response.json()["checks"]}["tables_exist"]
    assert detail.endswith("and 480 more") and len(detail) < 2000
    assert len(response.content) < 5000
