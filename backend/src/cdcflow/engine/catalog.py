"""The neutral table model every database speaks: a table's columns (with their source type's text) and primary key.

A source port reads these from its catalog, a target port creates tables from them; database-specific details
(identifier quoting, type names) stay in the engine/<database>/ modules.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    builtin_type: bool


@dataclass(frozen=True)
class TableDef:
    schema: str
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def read_named(names: list[str], read: Callable[[str, str], TableDef | None]) -> tuple[list[TableDef], list[str]]:
    """Definitions of the named "schema.table" entries, read one by one, and the names that were not found."""
    found, missing = [], []
    for name in names:
        schema, _, table = name.partition(".")
        definition = read(schema, table) if table else None
        (found.append(definition) if definition else missing.append(name))
    return found, missing
