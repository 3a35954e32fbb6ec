"""Database passwords for connectors, as files read by Kafka Connect's DirectoryConfigProvider.

A connector config holds only ``${dir:<folder>:<key>}``; Connect resolves it when it starts the task, so the REST
API (GET /connectors/x/config) never shows a password. The folder is shared with the Connect worker (same host).
"""

import os
import shutil
import uuid
from pathlib import Path


class ConnectSecrets:
    def __init__(self, base_dir: str) -> None:
        self.base = Path(base_dir)

    def _folder(self, pipeline_id: uuid.UUID) -> Path:
        return self.base / str(pipeline_id)

    def write(self, pipeline_id: uuid.UUID, key: str, value: str) -> str:
        folder = self._folder(pipeline_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)
        return "${dir:%s:%s}" % (folder, key)

    def remove(self, pipeline_id: uuid.UUID) -> None:
        shutil.rmtree(self._folder(pipeline_id), ignore_errors=True)
