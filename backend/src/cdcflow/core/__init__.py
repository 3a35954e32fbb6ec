"""Cross-cutting pieces: settings, database sessions, errors, security, logging."""
