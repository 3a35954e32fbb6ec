"""Runs last (make test runs the backend suite after the browser tests): no log line of the whole run, from any
service, contains a password or key this run used."""

import os
from pathlib import Path

from tests.support import connect_auth


def _password(dsn: str) -> str:
    return dsn.split("://")[1].split("@")[0].split(":")[1]


def secrets_of_this_run(users) -> dict[str, str]:
    found = {"admin password": os.environ["CDCFLOW_ADMIN_PASSWORD"],
             "PostgreSQL superuser password": _password(os.environ["PG_SUPERUSER_DSN"]),
             "metadata database password": _password(os.environ["DATABASE_URL"]),
             "demo source role password": _password(os.environ["DEMO_SOURCE_DSN"]),
             "demo target role password": _password(os.environ["DEMO_TARGET_DSN"]),
             "MariaDB admin password": _password(os.environ["MARIADB_ADMIN_DSN"]),
             "MariaDB demo source password": _password(os.environ["MARIADB_DEMO_SOURCE_DSN"]),
             "MariaDB demo target password": _password(os.environ["MARIADB_DEMO_TARGET_DSN"]),
             "MariaDB root password": (Path(os.environ["CDCFLOW_STACK_DIR"]) / "secrets" /
                                       "mariadb_root_password").read_text(),
             "Kafka Connect REST password": connect_auth()[1],
             "metrics token": os.environ["CDCFLOW_METRICS_TOKEN"],
             "JWT secret": os.environ["JWT_SECRET"], "secret key": os.environ["CDCFLOW_SECRET_KEY"]}
    # Generated secrets are long enough that finding one in a log is never a coincidence.
    assert all(len(v) >= 16 for k, v in found.items() if k != "admin password"), "a generated secret is short"
    found.update({f"password of test user {u['username']}": u["password"] for u in users.values()})
    return found


def test_no_log_line_contains_a_secret(users, client, auth):
    # The users fixture's accounts have logged in by now (auth), so their passwords went through the API.
    logs = sorted(Path(os.environ["CDCFLOW_STACK_DIR"], "logs").glob("*.log"))
    assert {p.name for p in logs} >= {"api.log", "web.log", "kafka.log", "connect.log"}
    secrets = secrets_of_this_run(users)
    for path in logs:
        text = path.read_text(errors="replace")
        for what, value in secrets.items():
            assert value not in text, f"{what} appears in {path.name}"
    api_log = Path(os.environ["CDCFLOW_STACK_DIR"], "logs", "api.log").read_text()
    assert '"logger": "cdcflow.request"' in api_log and '"duration_ms"' in api_log
