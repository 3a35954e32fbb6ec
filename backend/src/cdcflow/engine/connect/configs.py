"""Connector configurations for a pipeline, chosen by database type: Debezium PostgreSQL or MariaDB source, and the
Debezium JDBC sink into PostgreSQL or MariaDB."""

import re

from cdcflow.engine import records
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.names import ResourceNames

POSTGRES_SOURCE = "io.debezium.connector.postgresql.PostgresConnector"
MARIADB_SOURCE = "io.debezium.connector.mariadb.MariaDbConnector"
JDBC_SINK = "io.debezium.connector.jdbc.JdbcSinkConnector"

# Stream tuning, all of it here and in the worker properties (stack/stackctl, connect_init). Measured with
# `make bench-cdc` (bench/results/cdc*.md, README "Benchmarks"): what each setting bought is in the comment.
SOURCE_TUNING = {
    # Debezium's queue poll sleeps this long whenever it finds the queue empty (default 500 ms): at low and medium
    # rates nearly every change waited out part of that sleep before it was handed to the producer. Measured at
    # 100 commits/s: source commit -> Kafka record p50 811 -> 302 ms, p99 1,448 -> 686 ms (with the lines below).
    "poll.interval.ms": "20",
    # Bigger hand-overs from the streaming thread to the task during bursts (defaults 2048 / 8192).
    "max.batch.size": "8192",
    "max.queue.size": "32768",
    # The producer sends what is ready and waits at most 5 ms to fill a batch of up to 256 KB, so a burst goes out
    # in few large requests; lz4 shrinks the repetitive JSON-with-schema records several times for little CPU:
    # fewer bytes for the broker to write and the sink to fetch.
    "producer.override.linger.ms": "5",
    "producer.override.batch.size": "262144",
    "producer.override.compression.type": "lz4",
    # Debezium's context headers (__debezium.context.*) on every record: nothing of cdcflow reads them, and the
    # sink's header converter parsed each one per record (a thread dump of a sink falling behind in a burst showed
    # it building NumberFormatExceptions for them).
    "extended.headers.enabled": "false",
    # One change event may be large: an update under full row images (MariaDB binlog_row_image=FULL, PostgreSQL
    # REPLICA IDENTITY FULL) carries the old and the new row, so a row with a 1 MB text made a 2 MB record that the
    # default 1 MB limit refused, failing the task (the MariaDB e2e test caught it). Topics allow the same
    # (engine/topics.py).
    "producer.override.max.request.size": "16777216",
}

# What is kept below was measured in full bench-cdc runs, before/after (bench/results/cdc_levers.md).
SINK_TUNING: dict[str, str] = {
    # A sink task writes through one connection at a time, but Hibernate's c3p0 pool opens 5 at start (grows to 32).
    # With 23 pipelines on the test stack that was 115 idle target connections, PostgreSQL's max_connections (200)
    # ran out and the 24th pipeline's sink could not start (make bench-connect-capacity). One at start, four at most.
    "connection.pool.min_size": "1",
    "connection.pool.max_size": "4",
    "connection.pool.acquire_increment": "1",
    # Headers are passed through as bytes: the JDBC sink does not use them, and the worker's default
    # (SimpleHeaderConverter) parses every header value of every record, throwing and catching on most.
    "header.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
    # One upsert per key per batch (the latest), so the batch can go to PostgreSQL as multi-row statements
    # (reWriteBatchedInserts on the URL): without the reduction, a batch holding one key twice (an insert and its
    # update) became one INSERT ... ON CONFLICT touching a row twice, which PostgreSQL refuses. Deletes stay
    # ordered: the sink flushes pending upserts before a delete and pending deletes before an upsert.
    "use.reduction.buffer": "true",
    # Up to 4,096 records per poll and per flush (defaults 500): the sink flushes at the end of every poll, so at a
    # trickle a batch is what arrived, and only a backlog fills it. With lean records (engine/records.py), burst over
    # one table: Connect CPU per change 0.117 -> 0.095 ms; over four tables no change (0.111 ms); 1,000 commits/s
    # Kafka -> target p50 464 -> 74 ms in the same loaded hour. (Measured at load 20 in November with JSON-with-schema
    # records, it had looked worse for latency at 100/s; that run's noise was larger than the difference.)
    "batch.size": "4096",
    "consumer.override.max.poll.records": "4096",
}


# Every PostgreSQL type name but these (pg_type.typname, any case). Java regex, matched against schema.table.type.
_PLAIN_TYPES = ("int2", "int4", "int8", "text", "varchar", "bool", "float4", "float8", "numeric", "date", "timestamp",
                "timestamptz")
PLAIN_TYPES_EXCLUDED = r"(?i).+\.(?!(?:" + "|".join(_PLAIN_TYPES) + r")$)[^.]+"


def _jdbc_host(host: str) -> str:
    """IPv6 literals go in brackets inside a JDBC URL (hosts are stored as ::1, never [::1])."""
    return f"[{host}]" if ":" in host else host


def source_config(names: ResourceNames, endpoint: DatabaseEndpoint, tables: list[str], password_ref: str, *,
                  bootstrap: str, signals: bool = False) -> dict[str, str]:
    """The source connector of a pipeline; `bootstrap` is Kafka's, for the record converter (and MariaDB's schema
    history)."""
    if endpoint.database_type == "mariadb":
        config = mariadb_source_config(names, endpoint, tables, password_ref, bootstrap)
    else:
        config = postgres_source_config(names, endpoint, tables, password_ref, signals)
    return {**config, **records.converter_config(bootstrap)}


def postgres_source_config(names: ResourceNames, endpoint: DatabaseEndpoint, tables: list[str],
                           password_ref: str, signals: bool = False) -> dict[str, str]:
    """Streams from the slot and publication cdcflow created; no snapshot (the full load did that). With `signals`,
    the signal table (in the publication) takes incremental snapshot requests: how one table is resynced."""
    config = {
        "connector.class": POSTGRES_SOURCE,
        "tasks.max": "1",
        "database.hostname": endpoint.host,
        "database.port": str(endpoint.port),
        "database.user": endpoint.username,
        "database.password": password_ref,
        "database.dbname": endpoint.database,
        "database.sslmode": endpoint.sslmode,
        "topic.prefix": names.topic_prefix,
        "plugin.name": "pgoutput",
        "slot.name": names.slot,
        "slot.drop.on.stop": "false",
        "publication.name": names.publication,
        "publication.autocreate.mode": "disabled",
        "table.include.list": ",".join(re.escape(t) for t in tables),
        "snapshot.mode": "no_data",
        # Exact numerics, scale included (1.00 stays 1.00); the sink hands the text to PostgreSQL as is.
        "decimal.handling.mode": "string",
        # The source column type rides in each field's schema only where the JDBC sink reads it: the types it binds
        # by that name (json vs jsonb, arrays, ranges, inet, macaddr, money, bit, ...). For the plain types listed
        # below it picks the same binding without it (the target tables are cdcflow's, so the sink never writes
        # DDL from it), and leaving it out there cut a change record of 6 plain columns from 5.5 KB to 3.5 KB: the
        # schema is re-serialized, re-parsed and compared per record by the source, the sink and the event logger.
        "datatype.propagate.source.type": PLAIN_TYPES_EXCLUDED,
        # Keeps the slot's confirmed LSN moving when the captured tables are quiet but the server is not (WAL is
        # per cluster): a logical message through the slot lets Debezium confirm a recent LSN, so WAL is released.
        "heartbeat.interval.ms": "5000",
        "heartbeat.action.query": "SELECT pg_logical_emit_message(false, 'cdcflow_heartbeat', now()::text)",
        "message.prefix.exclude.list": "cdcflow_heartbeat",
        "tombstones.on.delete": "true",
        # Debezium skips TRUNCATE by default (skipped.operations=t); the sink applies it (truncate.enabled).
        "skipped.operations": "none",
        **SOURCE_TUNING,
    }
    if signals:
        signal_table = f"{names.signal_schema}.{names.signal_table}"
        config.update({
            "signal.enabled.channels": "source",
            "signal.data.collection": signal_table,
            # Chunks are read by primary key between two watermarks written to the signal table, so a snapshot row
            # never overwrites a newer change of the same key (DBLog); the sink upserts them like any change.
            "incremental.snapshot.chunk.size": "2048",
            "notification.enabled.channels": "sink",
            "notification.sink.topic.name": names.notification_topic,
            # Debezium publishes the signal table's own rows (requests and watermarks); nobody needs them in Kafka.
            "transforms": "dropSignals",
            "transforms.dropSignals.type": "org.apache.kafka.connect.transforms.Filter",
            "transforms.dropSignals.predicate": "isSignal",
            "predicates": "isSignal",
            "predicates.isSignal.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            "predicates.isSignal.pattern": re.escape(names.topic(names.signal_schema, names.signal_table)),
        })
    return config


def server_id(names: ResourceNames) -> int:
    """The replica server id the MariaDB connector registers with: unique per pipeline, far from the small ids
    servers are usually given (1..2^30)."""
    return (1 << 30) + int(names.pipeline_id.hex[:7], 16)


def source_partition(names: ResourceNames, endpoint: DatabaseEndpoint) -> dict[str, str]:
    """The source partition a connector that keeps its position in Connect stores its offset under."""
    return {"server": names.topic_prefix}


def source_offset(endpoint: DatabaseEndpoint, position: dict) -> dict:
    """Debezium's MariaDB offset for a binlog position: the next event to read is at file:pos, none of it skipped.
    The MariaDB connector streams by GTID (it fails without a GTID set): BINLOG_GTID_POS of the same coordinate,
    i.e. the last transaction the snapshot saw, so streaming resumes with the first one it did not."""
    offset = {"file": position["file"], "pos": int(position["pos"]), "event": 0, "row": 0}
    if position.get("gtids"):
        offset["gtids"] = position["gtids"]
    return offset


def mariadb_source_config(names: ResourceNames, endpoint: DatabaseEndpoint, tables: list[str], password_ref: str,
                          bootstrap: str) -> dict[str, str]:
    """Streams the binlog from the offset cdcflow wrote (the load's snapshot position, or now for CDC only).
    `recovery` builds the connector's schema history from the current table definitions without reading any row,
    then streams from the stored offset: the full load already copied the data."""
    return {
        "connector.class": MARIADB_SOURCE,
        "tasks.max": "1",
        "database.hostname": endpoint.host,
        "database.port": str(endpoint.port),
        "database.user": endpoint.username,
        "database.password": password_ref,
        "database.server.id": str(server_id(names)),
        "topic.prefix": names.topic_prefix,
        "database.include.list": ",".join(sorted({re.escape(t.split(".", 1)[0]) for t in tables})),
        "table.include.list": ",".join(re.escape(t) for t in tables),
        "snapshot.mode": "recovery",
        "snapshot.locking.mode": "none",
        "schema.history.internal.kafka.bootstrap.servers": bootstrap,
        # One segment after the id, like the notification topic: the event logger's pattern never matches it.
        "schema.history.internal.kafka.topic": names.schema_history_topic,
        "schema.history.internal.store.only.captured.tables.ddl": "true",
        "include.schema.changes": "false",
        "decimal.handling.mode": "string",
        "column.propagate.source.type": ".*",
        # TINYINT(1) is MariaDB's BOOLEAN: sent as a boolean, so a PostgreSQL target's boolean column takes it.
        "converters": "boolean",
        "boolean.type": "io.debezium.connector.binlog.converters.TinyIntOneToBooleanConverter",
        "heartbeat.interval.ms": "5000",
        "tombstones.on.delete": "true",
        "skipped.operations": "none",
        **SOURCE_TUNING,
    }


def _jdbc_url(endpoint: DatabaseEndpoint) -> str:
    host = _jdbc_host(endpoint.host)
    if endpoint.database_type == "mariadb":
        # Tables live in the connection's database (engine/mariadb/target.py). Sessions in UTC, like cdcflow's own.
        return f"jdbc:mariadb://{host}:{endpoint.port}/{endpoint.database}" \
               "?connectionTimeZone=UTC&forceConnectionTimeZoneToSession=true"
    # stringtype=unspecified lets PostgreSQL type string parameters by their column (numeric from text).
    # reWriteBatchedInserts folds a batch of upserts into multi-row INSERT ... ON CONFLICT statements; safe only
    # with use.reduction.buffer (SINK_TUNING), which keeps one record per key in a batch.
    return f"jdbc:postgresql://{host}:{endpoint.port}/{endpoint.database}?sslmode={endpoint.sslmode}" \
           "&stringtype=unspecified&reWriteBatchedInserts=true"


def _collection_format(target: DatabaseEndpoint, source_type: str) -> str:
    """The target table a change goes to: on MariaDB the table's name in the connection's database; on PostgreSQL
    schema.table, where a MariaDB source's schema is its database (source.db; it has no source.schema)."""
    if target.database_type == "mariadb":
        return "${source.table}"
    return "${source.db}.${source.table}" if source_type == "mariadb" else "${source.schema}.${source.table}"


def sink_config(names: ResourceNames, endpoint: DatabaseEndpoint, topics: list[str], password_ref: str, *,
                bootstrap: str, exclude_fields: list[str] = (), source_type: str = "postgresql") -> dict[str, str]:
    """Upserts by primary key, applies deletes and truncates; tables exist already (created from the catalog).
    `exclude_fields` (topic:column) are source columns a pipeline with the ignore policy does not copy."""
    config = {
        "connector.class": JDBC_SINK,
        "tasks.max": "1",
        "topics": ",".join(topics),
        "connection.url": _jdbc_url(endpoint),
        "connection.username": endpoint.username,
        "connection.password": password_ref,
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        "delete.enabled": "true",
        "truncate.enabled": "true",
        "schema.evolution": "none",
        "collection.name.format": _collection_format(endpoint, source_type),
        "use.time.zone": "UTC",
        **SINK_TUNING,
        **records.converter_config(bootstrap),
    }
    if endpoint.database_type == "mariadb":
        # Quoted names: a column may be a MariaDB reserved word (blob, key, order, ...) that PostgreSQL allows.
        config["quote.identifiers"] = "true"
    if exclude_fields:
        config["field.exclude.list"] = ",".join(sorted(exclude_fields))
    return config
