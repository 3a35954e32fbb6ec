"""PostgreSQL specifics: connection checks, catalog introspection, (later) slots and publications."""
