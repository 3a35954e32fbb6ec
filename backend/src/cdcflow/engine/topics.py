"""Kafka topics of a pipeline, created up front so the sink subscribes to topics that exist."""

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic


MAX_MESSAGE_BYTES = "16777216"  # matches the source connectors' producer max.request.size (connect/configs.py)


def ensure_topics(bootstrap: str, topics: list[str], partitions: int = 1, timeout: float = 15) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=timeout).topics)
    missing = [NewTopic(t, num_partitions=partitions, replication_factor=-1,
                        config={"max.message.bytes": MAX_MESSAGE_BYTES}) for t in topics if t not in existing]
    if not missing:
        return
    for topic, future in admin.create_topics(missing, operation_timeout=timeout).items():
        try:
            future.result(timeout)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise


def delete_topics(bootstrap: str, topics: list[str], timeout: float = 15) -> None:
    if topics:
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for future in admin.delete_topics(topics, operation_timeout=timeout).values():
            try:
                future.result(timeout)
            except KafkaException as exc:
                if exc.args[0].name() != "UNKNOWN_TOPIC_OR_PART":
                    raise
