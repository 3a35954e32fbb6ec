"""Names of a pipeline's data-plane resources, all derived from its id (DESIGN.md, "Pipeline start")."""

import uuid
from dataclasses import dataclass


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

    def topic(self, schema: str, table: str) -> str:
        return f"{self.topic_prefix}.{schema}.{table}"
