"""The bare Debezium pair of `make bench-cdc`: a Debezium PostgreSQL source and the Debezium JDBC sink configured by
hand on the stack's Connect worker, tuned the way published Debezium benchmarks tune them, with none of cdcflow
around it (no event log, no live events). It answers "what would the stack do without cdcflow?" for the same burst.

Its slot and publication (the burst tables only) are made with the benchmark's databases, so the slot keeps every
change from then on; its connectors exist only while it drains a burst, after cdcflow and native replication have
drained theirs: each path has the machine to itself and its CPU per change is its own. A connector gets a new name
per burst, so it has no stored offset and streams from the slot's confirmed position.
"""

import os
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx

BARE_SLOT = "bench_cdc_bare"
BARE_PUBLICATION = "bench_bare"
BARE_PREFIX = "benchbare"
NAME_PREFIX = "bench-bare-"

# JSON with schemas, the worker's default, set on the pair itself: cdcflow's own connectors may use another
# converter, and this column must stay the Debezium everyone runs.
JSON_WITH_SCHEMAS = {
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "key.converter.schemas.enable": "true",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "true",
}


class Connect:
    """Kafka Connect's REST API with the stack's basic-auth credentials."""

    def __init__(self) -> None:
        password = Path(os.environ["KAFKA_CONNECT_PASSWORD_FILE"]).read_text().strip()
        self.http = httpx.Client(base_url=os.environ["KAFKA_CONNECT_URL"], timeout=30,
                                 auth=(os.environ["KAFKA_CONNECT_USER"], password))

    def names(self) -> list[str]:
        return self.http.get("/connectors").raise_for_status().json()

    def running(self, name: str) -> bool:
        response = self.http.get(f"/connectors/{name}/status")
        if response.status_code != 200:
            return False
        status = response.json()
        tasks = status.get("tasks") or []
        return status["connector"]["state"] == "RUNNING" and bool(tasks) and all(t["state"] == "RUNNING" for t in tasks)

    def failed(self, name: str) -> str | None:
        response = self.http.get(f"/connectors/{name}/status")
        if response.status_code != 200:
            return None
        for task in response.json().get("tasks") or []:
            if task["state"] == "FAILED":
                return task.get("trace", "")[:2000]
        return None

    def create(self, name: str, config: dict[str, str]) -> None:
        self.http.put(f"/connectors/{name}/config", json=config).raise_for_status()

    def delete(self, name: str) -> None:
        response = self.http.delete(f"/connectors/{name}")
        if response.status_code not in (204, 404):
            response.raise_for_status()

    def wait_running(self, names: list[str], timeout: float) -> float:
        """Seconds until every named connector and its tasks run (Connect answering at all, after a restart)."""
        started = time.monotonic()
        while True:
            try:
                if all(self.running(n) for n in names):
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass  # a worker still starting refuses connections
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"connectors {names} not RUNNING after {timeout:.0f} s")
            time.sleep(0.2)


def remove_old(connect: Connect) -> None:
    """Connectors of an earlier run: gone before their slot is dropped."""
    for name in connect.names():
        if name.startswith(NAME_PREFIX):
            connect.delete(name)


def password_ref() -> str:
    """The superuser's password as a Connect config reference (the stack's directory provider), never in the
    connector config itself."""
    directory = Path(os.environ["CONNECT_SECRETS_DIR"]) / "bench-bare"
    directory.mkdir(mode=0o700, exist_ok=True)
    secret = directory / "password"
    secret.write_text(urlsplit(os.environ["PG_SUPERUSER_DSN"]).password)
    secret.chmod(0o600)
    return f"${{dir:{directory}:password}}"


def source_config(source_db: str, tables: list[str]) -> dict[str, str]:
    u = urlsplit(os.environ["PG_SUPERUSER_DSN"])
    return {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "tasks.max": "1",
        "database.hostname": u.hostname, "database.port": str(u.port), "database.user": u.username,
        "database.password": password_ref(), "database.dbname": source_db,
        "topic.prefix": BARE_PREFIX,
        "plugin.name": "pgoutput",
        "slot.name": BARE_SLOT,
        "publication.name": BARE_PUBLICATION,
        "publication.autocreate.mode": "disabled",
        "table.include.list": ",".join(f"bench\\.{t}" for t in tables),
        "snapshot.mode": "no_data",
        # The published tuning: large hand-overs from the streaming thread, and a producer that lingers to fill
        # compressed batches.
        "max.batch.size": "20000",
        "max.queue.size": "100000",
        "producer.override.linger.ms": "50",
        "producer.override.compression.type": "lz4",
        **JSON_WITH_SCHEMAS,
    }


def sink_config(target_db: str, tables: list[str]) -> dict[str, str]:
    u = urlsplit(os.environ["PG_SUPERUSER_DSN"])
    return {
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "tasks.max": "1",
        "topics": ",".join(f"{BARE_PREFIX}.bench.{t}" for t in tables),
        "connection.url": f"jdbc:postgresql://{u.hostname}:{u.port}/{target_db}",
        "connection.username": u.username,
        "connection.password": password_ref(),
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        "delete.enabled": "true",
        "schema.evolution": "none",
        "collection.name.format": "bench.${source.table}",
        "batch.size": "5000",
        "consumer.override.max.poll.records": "5000",
        "use.reduction.buffer": "true",
        **JSON_WITH_SCHEMAS,
    }


def start(connect: Connect, source_db: str, target_db: str, tables: list[str]) -> list[str]:
    """Creates the pair for these tables; returns the connector names (source first)."""
    name = NAME_PREFIX + uuid.uuid4().hex[:6]
    connect.create(f"{name}-source", source_config(source_db, tables))
    connect.create(f"{name}-sink", sink_config(target_db, tables))
    return [f"{name}-source", f"{name}-sink"]


def stop(connect: Connect, names: list[str]) -> None:
    for name in names:
        connect.delete(name)
