"""MariaDB as a source (binlog via Debezium's MariaDB connector) and as a target (JDBC sink)."""
