"""Names of a pipeline's data-plane resources, all derived from its id."""

import uuid
from dataclasses import dataclass

# The schema on a PostgreSQL source that holds cdcflow's own objects (Debezium's signal tables): never offered as a
# table to replicate.
SIGNAL_SCHEMA = "cdcflow"


@dataclass(frozen=True)
class ResourceNames:
    pipeline_id: uuid.UUID

    @property
    def _hex(self) -> str:
        return self.pipeline_id.hex

    @property
    def slot(self) -> str:
        return f"cdcflow_{self._hex}"

    @property
    def publication(self) -> str:
        return f"cdcflow_{self._hex}"

    @property
    def topic_prefix(self) -> str:
        return f"cdcflow.{self.pipeline_id}"

    @property
    def source_connector(self) -> str:
        return f"cdcflow-{self.pipeline_id}-source"

    @property
    def sink_connector(self) -> str:
        return f"cdcflow-{self.pipeline_id}-sink"

    @property
    def signal_schema(self) -> str:
        return SIGNAL_SCHEMA

    @property
    def signal_table(self) -> str:
        """Debezium's signal table on the source (incremental snapshots): its rows are the resync requests."""
        return f"signal_{self._hex}"

    @property
    def notification_topic(self) -> str:
        # One segment after the id: the event logger's topic pattern (prefix.id.schema.table) never matches it.
        return f"{self.topic_prefix}.__notifications"

    @property
    def schema_history_topic(self) -> str:
        """Debezium's schema history of a MariaDB source (one segment after the id, like the notifications)."""
        return f"{self.topic_prefix}.__schema_history"

    def topic(self, schema: str, table: str) -> str:
        return f"{self.topic_prefix}.{schema}.{table}"
