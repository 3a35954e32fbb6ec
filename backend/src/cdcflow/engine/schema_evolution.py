"""Schema evolution planning: from what a source table was, what it is now and what the target holds, the target DDL
a policy calls for. Pure functions (no I/O), so every kind of DDL and every policy is unit-tested.

Columns are matched by attnum, so a renamed column is a rename, not a drop and an add. The target is compared too:
a change already present on the target (applied earlier, or by hand) is satisfied and needs nothing.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

PROPAGATE, PAUSE, IGNORE = "propagate", "pause", "ignore"

# Outcomes of one change: applied on the target, nothing needed, not copied (ignore policy), or the pipeline pauses.
APPLY, NOOP, IGNORED, BLOCK = "apply", "noop", "ignored", "block"

_INT_RANK = {"smallint": 1, "integer": 2, "bigint": 3}
_VARCHAR = re.compile(r"^character varying\((\d+)\)$")
_NUMERIC = re.compile(r"^numeric\((\d+),(\d+)\)$")
_VARBIT = re.compile(r"^bit varying\((\d+)\)$")


def target_type(column: dict[str, Any]) -> str:
    """Enums, domains and composite types may not exist on the target: carried as text (as at create time)."""
    return column["type"] if column["builtin"] else "text"


def is_widening(old: str, new: str) -> bool:
    """Changes PostgreSQL applies with ALTER COLUMN ... TYPE and no value can fail or change."""
    if old == new:
        return False
    if old in _INT_RANK and new in _INT_RANK:
        return _INT_RANK[new] > _INT_RANK[old]
    if (old, new) == ("real", "double precision"):
        return True
    if (m := _VARCHAR.match(old)) and (new in ("character varying", "text") or
                                       ((n := _VARCHAR.match(new)) and int(n[1]) >= int(m[1]))):
        return True
    if old == "character varying" and new == "text":
        return True
    if (m := _NUMERIC.match(old)) and (new == "numeric" or (
            (n := _NUMERIC.match(new)) and n[2] == m[2] and int(n[1]) >= int(m[1]))):
        return True
    return bool((m := _VARBIT.match(old)) and (new == "bit varying" or (
        (n := _VARBIT.match(new)) and int(n[1]) >= int(m[1]))))


@dataclass
class Change:
    kind: str                  # add_column, drop_column, rename_column, type_change, nullability, default, table_*
    column: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    outcome: str
    message: str
    ddl: list[str] = field(default_factory=list)       # run on the target (APPLY), or what BLOCK would need
    needs_resync: bool = False                           # existing rows got values the stream never carried
    deferred_drop: bool = False                          # drop the column once the sink is past this DDL

    def public(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "before": self.before, "after": self.after,
                "outcome": self.outcome, "message": self.message, "ddl": self.ddl,
                "needs_resync": self.needs_resync, "deferred_drop": self.deferred_drop}


@dataclass
class TablePlan:
    table: str
    changes: list[Change]
    ignored: list[str]          # source columns not copied (ignore policy), after this plan

    @property
    def blocked(self) -> list[Change]:
        return [c for c in self.changes if c.outcome == BLOCK]

    @property
    def to_apply(self) -> list[Change]:
        return [c for c in self.changes if c.outcome == APPLY]


def _quote(ident: str) -> str:
    return sql.Identifier(ident).as_string(None)


def _table(rel: dict[str, Any]) -> str:
    return f"{_quote(rel['schema'])}.{_quote(rel['name'])}"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_QUOTED = re.compile(r"^'((?:[^']|'')*)'(?:::[a-z_][\w .,()\[\]\"]*)?$", re.IGNORECASE)
_BARE = re.compile(r"^(-?\d+(?:\.\d+)?|true|false)(?:::[a-z_][\w .,()\[\]\"]*)?$", re.IGNORECASE)


def constant_default(expression: str | None) -> str | None:
    """The value of a default that is a literal ('new'::text, 42, true); None for an expression (now(), nextval)."""
    if not expression:
        return None
    if m := _QUOTED.match(expression.strip()):
        return m[1].replace("''", "'")
    if m := _BARE.match(expression.strip()):
        return m[1]
    return None


def add_column_ddl(table: str, column: dict[str, Any]) -> tuple[list[str], bool]:
    """ADD COLUMN with the target type; rows that predate the DDL get the value they hold on the source: the value
    PostgreSQL stored for them at ADD COLUMN time, or the default itself when it is a literal (a later rewrite of the
    table, e.g. by ALTER COLUMN TYPE, writes that value into the rows and forgets the stored one). Returns
    (ddl, needs_resync): a volatile default computed a value per row on the source, which no event carried."""
    type_ = target_type(column)
    head = f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {_quote(column['name'])} {type_}"
    existing = column["missing"] if column["has_missing"] else constant_default(column["default"])
    if existing is not None:
        not_null = " NOT NULL" if column["not_null"] else ""
        return [f"{head} DEFAULT {_literal(existing)}::{type_}{not_null}"], False
    return [head], bool(column["default"]) and not column["has_missing"]


def plan_table(qualified: str, baseline: dict[str, Any] | None, source: dict[str, Any] | None,
               target: dict[str, Any] | None, policy: str, drop_removed: bool = False,
               ignored: list[str] = (), renamed_to: str | None = None) -> TablePlan:
    """What `policy` does about the difference between `baseline` (the source as last seen) and `source` now,
    given `target`. `renamed_to` names the table that now has the baseline's oid, when the name is gone."""
    ignored_now = [c for c in ignored if source is None or any(col["name"] == c for col in source["columns"])]
    if source is None:
        kind = "table_renamed" if renamed_to else "table_dropped"
        message = (f"Table {qualified} was renamed to {renamed_to} on the source. Remove it from the pipeline and "
                   f"add {renamed_to} (it is loaded again), then resume." if renamed_to else
                   f"Table {qualified} no longer exists on the source. Remove it from the pipeline (its target "
                   f"table is kept) or create it again, then resume.")
        return TablePlan(qualified, [Change(kind, None, None, None, BLOCK, message)], ignored_now)
    if target is None:
        return TablePlan(qualified, [Change("table_missing_on_target", None, None, None, BLOCK,
                                            f"Target table {qualified} is missing; resync the table or reset the "
                                            f"pipeline.")], ignored_now)
    table = _table(target)
    tcols = {c["name"]: c for c in target["columns"]}
    scols = {c["attnum"]: c for c in source["columns"]}
    bcols = {c["attnum"]: c for c in baseline["columns"]} if baseline and baseline["oid"] == source["oid"] else None
    changes: list[Change] = []

    def add(kind, column, before, after, outcome, message, ddl=(), **flags):
        changes.append(Change(kind, column, before, after, outcome, message, list(ddl), **flags))

    # Added columns: new attnums, and any other source column the target lacks (one ignored until now, or one
    # whose table predates what cdcflow knows); a renamed column is handled as a rename below.
    renamed = {n for n, c in (bcols or {}).items() if n in scols and scols[n]["name"] != c["name"]}
    added = [c for n, c in scols.items() if bcols is not None and n not in bcols]
    known_missing = [c for n, c in scols.items() if c["name"] not in tcols and n not in renamed and c not in added
                     and c["name"] not in ignored_now and policy != IGNORE]
    for col in added + known_missing:
        name = col["name"]
        if name in tcols:
            if tcols[name]["type"] == target_type(col):
                add("add_column", name, None, col, NOOP, f"column {name} already exists on the target")
            else:
                add("add_column", name, None, col, BLOCK,
                    f"column {name} exists on the target as {tcols[name]['type']}, not {target_type(col)}",
                    [f"ALTER TABLE {table} ALTER COLUMN {_quote(name)} TYPE {target_type(col)} "
                     f"USING {_quote(name)}::{target_type(col)}"])
        elif policy == IGNORE or name in ignored_now:
            if name not in ignored_now:
                ignored_now.append(name)
            add("add_column", name, None, col, IGNORED, f"column {name} is not copied (policy ignore)")
        else:
            ddl, resync = add_column_ddl(table, col)
            resync = resync or col in known_missing  # its values so far never reached the target
            note = " (its values in existing rows never reached the target: the table is resynced)" \
                if resync else ""
            add("add_column", name, None, col, APPLY, f"column {name} {target_type(col)} added{note}", ddl,
                needs_resync=resync)

    for attnum, old in (bcols or {}).items():
        name = old["name"]
        new = scols.get(attnum)
        if new is None:  # dropped on the source
            if name not in tcols or name in ignored:
                add("drop_column", name, old, None, NOOP, f"column {name} dropped (not on the target)")
            elif drop_removed and policy != IGNORE:
                ddl = [f"ALTER TABLE {table} ALTER COLUMN {_quote(name)} DROP NOT NULL"] \
                    if tcols[name]["not_null"] else []
                add("drop_column", name, old, None, APPLY if ddl else NOOP,
                    f"column {name} dropped; dropped on the target once the sink has applied every earlier change",
                    ddl, deferred_drop=True)
            elif tcols[name]["not_null"]:
                add("drop_column", name, old, None, APPLY,
                    f"column {name} dropped; kept on the target, made nullable, receives no more values",
                    [f"ALTER TABLE {table} ALTER COLUMN {_quote(name)} DROP NOT NULL"])
            else:
                add("drop_column", name, old, None, NOOP, f"column {name} dropped; kept on the target "
                                                          f"(nullable), receives no more values")
            continue
        if new["name"] != name:
            satisfied = new["name"] in tcols and name not in tcols
            add("rename_column", new["name"], old, new, NOOP if satisfied else BLOCK,
                f"column {name} renamed to {new['name']}" + ("" if satisfied else
                                                             ": apply the rename on the target, then resume"),
                [] if satisfied else [f"ALTER TABLE {table} RENAME COLUMN {_quote(name)} TO {_quote(new['name'])}"])
            continue
        if name in ignored_now:
            continue
        current = tcols.get(name)
        if old["type"] != new["type"]:
            want = target_type(new)
            if current is None or current["type"] == want:
                add("type_change", name, old, new, NOOP, f"column {name}: {old['type']} -> {new['type']}")
            elif is_widening(current["type"], want):
                add("type_change", name, old, new, APPLY, f"column {name} widened: {current['type']} -> {want}",
                    [f"ALTER TABLE {table} ALTER COLUMN {_quote(name)} TYPE {want}"])
            else:
                add("type_change", name, old, new, BLOCK,
                    f"column {name} changed from {old['type']} to {new['type']}, which is not a widening: "
                    f"apply the change on the target (the statement below), then resume",
                    [f"ALTER TABLE {table} ALTER COLUMN {_quote(name)} TYPE {want} USING {_quote(name)}::{want}"])
        if old["not_null"] != new["not_null"]:
            if not new["not_null"] and current is not None and current["not_null"]:
                add("nullability", name, old, new, APPLY, f"column {name} is nullable now",
                    [f"ALTER TABLE {table} ALTER COLUMN {_quote(name)} DROP NOT NULL"])
            else:
                add("nullability", name, old, new, NOOP,
                    f"column {name} is {'NOT NULL' if new['not_null'] else 'nullable'} now (target unchanged)")
        if old["default"] != new["default"]:
            add("default", name, old, new, NOOP, f"column {name} default is {new['default'] or 'none'} now "
                                                 f"(every change carries its values; target unchanged)")

    if policy == PAUSE:  # every change waits for the user; resuming applies it as propagate would
        for change in changes:
            change.outcome = BLOCK
            change.message += " (policy pause: review, then resume to apply)"
    return TablePlan(qualified, changes, ignored_now)
