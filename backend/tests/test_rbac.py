"""Role x route matrix: every /api/v1 route declares one permission, and each role gets exactly what it may."""

import re
import uuid

import pytest
from fastapi.routing import APIRoute

from cdcflow.core.deps import ROLE_PERMISSIONS, Permission
from cdcflow.main import API_PREFIX, API_ROUTERS
from cdcflow.models import Role

# The only routes that do not need a logged-in user: they are how one gets (or gives back) a token.
PUBLIC = {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/refresh"), ("POST", "/api/v1/auth/logout")}


def api_routes(app) -> list[tuple[str, str, APIRoute]]:
    routes = []
    for router in API_ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                routes.append((method, API_PREFIX + route.path, route))
    # Everything the app serves under /api/v1 is covered by the routers above.
    served = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops if p.startswith(API_PREFIX)}
    assert served == {(m, p) for m, p, _ in routes}
    return routes


def required_permissions(route: APIRoute) -> list[Permission]:
    found = []

    def walk(dependant):
        for dep in dependant.dependencies:
            permission = getattr(dep.call, "permission", None)
            if permission is not None:
                found.append(permission)
            walk(dep)

    walk(route.dependant)
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "public" if m.group(0) in ("{schema}", "{table}") else str(uuid.uuid4()),
                  path)


def test_every_route_declares_exactly_one_permission(app):
    routes = api_routes(app)
    assert len(routes) >= 20
    for method, path, route in routes:
        perms = required_permissions(route)
        if (method, path) in PUBLIC:
            assert perms == [], f"{method} {path} is public but declares {perms}"
        else:
            assert len(perms) == 1, f"{method} {path} declares {perms}"
            if method != "GET":
                assert perms[0] != Permission.READ, f"{method} {path} mutates with only read permission"


def test_anonymous_callers_get_401_everywhere_but_login(client, app):
    for method, path, _ in api_routes(app):
        if (method, path) in PUBLIC:
            continue
        response = client.request(method, concrete(path), json={})
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
        assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_role_gets_exactly_its_permissions(client, app, auth, role):
    allowed = ROLE_PERMISSIONS[Role(role)]
    for method, path, route in api_routes(app):
        if (method, path) in PUBLIC:
            continue
        (permission,) = required_permissions(route)
        response = client.request(method, concrete(path), json={}, headers=auth[role])
        if permission in allowed:
            assert response.status_code not in (401, 403), f"{role} {method} {path}: {response.status_code}"
        else:
            assert response.status_code == 403, f"{role} {method} {path}: {response.status_code}"
            assert response.json()["error"]["code"] == "forbidden"


def test_viewer_is_refused_every_mutation(client, app, auth):
    mutations = [(m, p) for m, p, _ in api_routes(app) if m != "GET" and (m, p) not in PUBLIC]
    assert mutations
    for method, path in mutations:
        assert client.request(method, concrete(path), json={}, headers=auth["viewer"]).status_code == 403


def test_alert_rules_and_channels_are_written_by_admins_and_operators_only():
    holders = {role for role, permissions in ROLE_PERMISSIONS.items() if Permission.MANAGE_ALERTS in permissions}
    assert holders == {Role.ADMIN, Role.OPERATOR}
