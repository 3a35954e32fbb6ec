"""MariaDB: connections, catalog and preflight; source, target, DDL and the snapshot hand-off."""
