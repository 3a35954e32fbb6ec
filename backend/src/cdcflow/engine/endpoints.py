"""What the engine needs to reach a database: plain parameters with the password already decrypted.

Never logged or serialized: `__repr__` hides the password. Every libpq connection cdcflow opens to a source or a
target takes its parameters from `libpq_kwargs`, so the rules below hold for all of them.
"""

from dataclasses import dataclass, field
from typing import Protocol

# SCRAM proves the password without sending it; MD5 sends a replayable, crackable hash (only when a connection
# opts in); cleartext, and servers that ask for no password at all, are always refused.
SCRAM_ONLY = "scram-sha-256"
SCRAM_OR_MD5 = "scram-sha-256,md5"


class EndpointUnreachable(Exception):
    """The database could not be reached or refused us; the message is safe to show (no DSN, no password)."""


class AddressGuard(Protocol):
    def check(self, host: str, port: int, database: str) -> tuple[str, ...]:
        """The addresses the connection may use (resolved now); raises an EndpointUnreachable otherwise."""


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
    allow_md5: bool = False
    guard: AddressGuard | None = field(default=None, repr=False, compare=False)

    def libpq_kwargs(self, connect_timeout: int) -> dict[str, object]:
        kwargs: dict[str, object] = {
            "host": self.host, "port": self.port, "dbname": self.database, "user": self.username,
            "password": self.password, "sslmode": self.sslmode, "connect_timeout": connect_timeout,
            "require_auth": SCRAM_OR_MD5 if self.allow_md5 else SCRAM_ONLY, "application_name": "cdcflow"}
        if self.guard is not None:
            # Resolved and checked now, connected to by address: a DNS answer that changes in between cannot
            # redirect the connection. `host` stays the name, for TLS verification.
            addresses = self.guard.check(self.host, self.port, self.database)
            kwargs["host"] = ",".join([self.host] * len(addresses))
            kwargs["hostaddr"] = ",".join(addresses)
        return kwargs
