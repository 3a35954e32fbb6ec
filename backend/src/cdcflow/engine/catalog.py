"""The neutral table model every database speaks: a table's columns (with their source type's text) and primary key.

A source port reads these from its catalog, a target port creates tables from them; database-specific details
(identifier quoting, type names) stay in the engine/<database>/ modules.
"""

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
