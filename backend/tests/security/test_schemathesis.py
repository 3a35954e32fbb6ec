"""Property-based abuse run: Schemathesis generates valid and invalid requests for every operation of the OpenAPI
document and sends them to the app in process (the test stack's real database behind it), as admin, operator and
viewer. No response may be a 5xx, and every response must match what the document declares for it (status code,
content type, body schema).

Deterministic: a fixed seed, derandomized Hypothesis, no example database; a bounded number of examples per
operation keeps the run to a couple of minutes.

Nothing is excluded. Two operations are steered so the run cannot damage the shared stack:
* POST /monitoring/retention/purge as admin: a valid `older_than_days` below 3650 is raised to 3650, so the run
  never deletes the events other tests read (invalid values still go through as generated);
* resources the run creates (users, connections) are deleted again at once, by id, so other tests' listings and
  name lookups see the database as it was.
Path ids are generated at random, so they name nothing that exists: the run cannot start, stop or delete a real
pipeline, connection or user (Schemathesis is told not to reuse ids seen in responses).
"""

import schemathesis
from fastapi.testclient import TestClient
from schemathesis.config import SchemathesisConfig

from cdcflow.core.config import Settings
from cdcflow.main import create_app

EXAMPLES_PER_OPERATION = 12
SEED = 20261127

APP = create_app(Settings(run_background_services=False))
CONFIG = SchemathesisConfig.from_dict({
    "seed": SEED,
    "generation": {"mode": "all", "max-examples": EXAMPLES_PER_OPERATION, "deterministic": True,
                   "database": "none", "with-security-parameters": False, "no-shrink": True},
    "phases": {
        "examples": {"enabled": False},
        "coverage": {"enabled": False},
        "fuzzing": {"enabled": True, "extra-data-sources": {"responses": False}},
        "stateful": {"enabled": False},
    },
})
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP, config=CONFIG)

CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance, schemathesis.checks.response_schema_conformance,
          schemathesis.checks.negative_data_rejection]
PURGE = ("POST", "/api/v1/monitoring/retention/purge")
CREATED = {("POST", "/api/v1/users"): "/api/v1/users/{}", ("POST", "/api/v1/connections"): "/api/v1/connections/{}"}
http = TestClient(APP)


def _steer(case, role: str) -> None:
    if (case.method.upper(), case.path) == PURGE and role == "admin" and isinstance(case.query, dict):
        days = case.query.get("older_than_days")
        if isinstance(days, int | float) and not isinstance(days, bool) and 0 <= days < 3650:
            case.query["older_than_days"] = 3650


def _clean_up(case, response, admin: dict[str, str]) -> None:
    template = CREATED.get((case.method.upper(), case.path))
    if template and response.status_code == 201:
        assert http.delete(template.format(response.json()["id"]), headers=admin).status_code == 204


@schema.parametrize()
def test_api_never_fails_and_matches_its_schema(case, auth):
    for role in ("admin", "operator", "viewer"):
        _steer(case, role)
        response = case.call_and_validate(headers=auth[role], checks=CHECKS)
        _clean_up(case, response, auth["admin"])

