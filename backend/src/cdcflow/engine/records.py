"""Change records on Kafka as cdcflow's connectors write them.

cdcflow's converter (stack/maven/cdcflow-converter, `SchemaRefConverter`) writes a record as one 0x00 byte, the
8-byte id of its schema (kept once per schema in the compacted topic `SCHEMA_TOPIC`), then the payload as plain JSON.
Records written before it, by Kafka's JsonConverter, are a JSON envelope `{"schema": ..., "payload": ...}`; both read
the same here, so topics that hold both keep working. Nothing in cdcflow's Python needs the schema itself: the event
log, row history and resync read the payload only.
"""

from typing import Any

import orjson

CONVERTER = "io.cdcflow.connect.SchemaRefConverter"
SCHEMA_TOPIC = "_cdcflow_schemas"
MAGIC = b"\x00"
HEADER_BYTES = 9


def payload(raw: bytes) -> Any:
    """The record's payload (None for JSON null); ValueError when the bytes are neither format."""
    if raw[:1] == MAGIC:
        if len(raw) < HEADER_BYTES:
            raise ValueError(f"record of {len(raw)} bytes is shorter than its schema reference")
        return orjson.loads(memoryview(raw)[HEADER_BYTES:])
    doc = orjson.loads(raw)
    # Kafka's JsonConverter with schemas.enable=true wraps the data: {"schema": ..., "payload": ...}
    if type(doc) is dict and len(doc) == 2 and "payload" in doc and "schema" in doc:
        return doc["payload"]
    return doc


def converter_config(bootstrap: str) -> dict[str, str]:
    """A connector's key and value converter settings: records that name their schema instead of carrying it."""
    if not bootstrap:
        raise ValueError("the record converter needs Kafka's bootstrap servers")
    config: dict[str, str] = {}
    for side in ("key", "value"):
        config[f"{side}.converter"] = CONVERTER
        config[f"{side}.converter.bootstrap.servers"] = bootstrap
        config[f"{side}.converter.schema.topic"] = SCHEMA_TOPIC
    return config
