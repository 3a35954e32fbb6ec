"""Registered databases: CRUD with encrypted passwords, connection tests and introspection."""
