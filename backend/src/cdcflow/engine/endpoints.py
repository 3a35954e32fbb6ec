"""What the engine needs to reach a database: plain parameters with the password already decrypted.

Never logged or serialized: `__repr__` hides the password.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DatabaseEndpoint:
    database_type: str
    host: str
    port: int
    database: str
    username: str
    password: str = field(repr=False)
    schema: str = "public"
    sslmode: str = "prefer"

    def libpq_kwargs(self, connect_timeout: int) -> dict[str, object]:
        return {"host": self.host, "port": self.port, "dbname": self.database, "user": self.username,
                "password": self.password, "sslmode": self.sslmode, "connect_timeout": connect_timeout,
                "application_name": "cdcflow"}
