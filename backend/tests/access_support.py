"""Helpers for resource-permission tests: fresh users (so grants never leak between tests), their tokens, and
grants given by an admin over the API."""

import uuid
from dataclasses import dataclass

from tests.conftest import login


@dataclass(frozen=True)
class Member:
    id: str
    username: str
    password: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user(client, admin: dict[str, str], role: str, label: str = "") -> Member:
    username = f"t-{label or role}-{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex}"
    created = client.post("/api/v1/users", json={"username": username, "password": password, "role": role},
                          headers=admin)
    assert created.status_code == 201, created.text
    return Member(id=created.json()["id"], username=username, password=password, role=role,
                    token=login(client, username, password)["access_token"])


def set_grant(client, admin: dict[str, str], kind: str, resource_id: str, user_id: str, level: str) -> None:
    response = client.put(f"/api/v1/{kind}/{resource_id}/grants/{user_id}", json={"level": level}, headers=admin)
    assert response.status_code == 200, response.text


def revoke(client, admin: dict[str, str], kind: str, resource_id: str, user_id: str) -> None:
    response = client.delete(f"/api/v1/{kind}/{resource_id}/grants/{user_id}", headers=admin)
    assert response.status_code == 204, response.text
