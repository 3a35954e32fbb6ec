"""Issue 23, finding 5: a rogue MariaDB server cannot get the password by asking for it encrypted to its own RSA key
(caching_sha2_password full authentication, sha256_password, public-key retrieval): without TLS with certificate
verification the client refuses and sends nothing more. And the TLS modes mean what they mean for PostgreSQL:
prefer asks for TLS when the server offers it, disable never does."""

import pytest

from cdcflow.engine.endpoints import DatabaseEndpoint, EndpointUnreachable
from cdcflow.engine.mariadb.connection import SHA2_REFUSED, connect
from tests.security.mysql_fake import RogueMariaDB

PASSWORD = "s3cret-i23-f5-password"


def endpoint(port: int, sslmode: str) -> DatabaseEndpoint:
    return DatabaseEndpoint(database_type="mariadb", host="127.0.0.1", port=port, database="shop",
                            username="victim", password=PASSWORD, sslmode=sslmode)


@pytest.mark.parametrize("sslmode", ["disable", "allow", "prefer"])
@pytest.mark.parametrize("variant", ["caching_sha2", "switch_sha256", "sha256"])
def test_a_rogue_server_never_gets_the_password_through_its_own_rsa_key(variant, sslmode):
    server = RogueMariaDB(variant)
    try:
        with pytest.raises(EndpointUnreachable) as refused:
            connect(endpoint(server.port, sslmode), timeout=5)
        assert str(refused.value) == SHA2_REFUSED
        assert server.stolen == []
    finally:
        server.close()


@pytest.mark.parametrize(("sslmode", "tls"), [("disable", False), ("allow", False), ("prefer", True),
                                              ("require", True), ("verify-ca", True), ("verify-full", True)])
def test_the_tls_modes_ask_for_tls_as_for_postgresql(sslmode, tls):
    server = RogueMariaDB("tls_probe")
    try:
        with pytest.raises(EndpointUnreachable):
            connect(endpoint(server.port, sslmode), timeout=5)
        assert server.asked_for_tls is tls
    finally:
        server.close()
