"""Schema evolution planning, pure: each kind of DDL under each policy, and what the target needs for it."""

import pytest

from cdcflow.engine.postgres.catalog import parse_missing_value
from cdcflow.engine.schema_evolution import APPLY, BLOCK, IGNORED, NOOP, is_widening, plan_table


def col(attnum, name, type_="integer", not_null=False, default=None, missing=None, has_missing=False,
        builtin=True):
    return {"attnum": attnum, "name": name, "type": type_, "not_null": not_null, "default": default,
            "missing": missing, "has_missing": has_missing, "builtin": builtin}


def rel(*columns, oid=100, name="t"):
    return {"oid": oid, "schema": "s", "name": name, "columns": list(columns)}


def target(*columns):
    return rel(*[{"name": c[0], "type": c[1], "not_null": c[2] if len(c) > 2 else False, "default": None}
                 for c in columns], oid=999)


BASE = rel(col(1, "id", not_null=True), col(2, "qty", not_null=True), col(3, "note", "character varying(10)"))
TARGET = target(("id", "integer", True), ("qty", "integer", True), ("note", "character varying(10)"))


def only(plan):
    assert len(plan.changes) == 1, plan.changes
    return plan.changes[0]


def test_add_nullable_column_is_added_as_is():
    source = rel(*BASE["columns"], col(4, "w"))
    change = only(plan_table("s.t", BASE, source, TARGET, "propagate"))
    assert (change.kind, change.outcome) == ("add_column", APPLY)
    assert change.ddl == ['ALTER TABLE "s"."t" ADD COLUMN IF NOT EXISTS "w" integer']
    assert not change.needs_resync


def test_add_column_with_default_gives_existing_rows_the_source_value_and_keeps_not_null():
    source = rel(*BASE["columns"], col(4, "w", not_null=True, default="7", missing="7", has_missing=True))
    change = only(plan_table("s.t", BASE, source, TARGET, "propagate"))
    assert change.ddl == ["ALTER TABLE \"s\".\"t\" ADD COLUMN IF NOT EXISTS \"w\" integer DEFAULT '7'::integer "
                          "NOT NULL"]


def test_add_column_with_a_stable_default_uses_the_stored_value_not_the_expression():
    source = rel(*BASE["columns"], col(4, "at", "timestamp with time zone", default="now()",
                                       missing="2026-01-01 10:00:00+00", has_missing=True))
    change = only(plan_table("s.t", BASE, source, TARGET, "propagate"))
    assert "DEFAULT '2026-01-01 10:00:00+00'::timestamp with time zone" in change.ddl[0]
    assert "now()" not in change.ddl[0]


def test_add_column_with_a_volatile_default_needs_a_resync():
    source = rel(*BASE["columns"], col(4, "r", "double precision", default="random()"))
    change = only(plan_table("s.t", BASE, source, TARGET, "propagate"))
    assert change.outcome == APPLY and change.needs_resync


def test_enum_column_is_added_as_text_with_a_quoted_default():
    source = rel(*BASE["columns"], col(4, "mood", "shop.mood", default="'o''k'::shop.mood", missing="o'k",
                                       has_missing=True, builtin=False))
    change = only(plan_table("s.t", BASE, source, TARGET, "propagate"))
    assert change.ddl == ["ALTER TABLE \"s\".\"t\" ADD COLUMN IF NOT EXISTS \"mood\" text DEFAULT 'o''k'::text"]


def test_dropped_not_null_column_is_kept_and_made_nullable():
    source = rel(col(1, "id", not_null=True), col(3, "note", "character varying(10)"))
    change = only(plan_table("s.t", BASE, source, TARGET, "propagate"))
    assert (change.kind, change.outcome) == ("drop_column", APPLY)
    assert change.ddl == ['ALTER TABLE "s"."t" ALTER COLUMN "qty" DROP NOT NULL']
    assert not change.deferred_drop


def test_dropped_column_with_the_drop_setting_is_dropped_later():
    source = rel(col(1, "id", not_null=True), col(3, "note", "character varying(10)"))
    change = only(plan_table("s.t", BASE, source, TARGET, "propagate", drop_removed=True))
    assert change.deferred_drop and change.ddl == ['ALTER TABLE "s"."t" ALTER COLUMN "qty" DROP NOT NULL']


@pytest.mark.parametrize("old,new,widening", [
    ("integer", "bigint", True), ("smallint", "integer", True), ("bigint", "integer", False),
    ("character varying(10)", "character varying(20)", True), ("character varying(10)", "text", True),
    ("character varying(20)", "character varying(10)", False), ("numeric(8,2)", "numeric(12,2)", True),
    ("numeric(8,2)", "numeric(12,3)", False), ("numeric(8,2)", "numeric", True), ("real", "double precision", True),
    ("integer", "text", False), ("text", "integer", False), ("integer", "integer", False),
])
def test_widenings(old, new, widening):
    assert is_widening(old, new) is widening


def test_int_to_bigint_is_applied_in_place():
    source = rel(col(1, "id", not_null=True), col(2, "qty", "bigint", not_null=True),
                 col(3, "note", "character varying(10)"))
    change = only(plan_table("s.t", BASE, source, TARGET, "propagate"))
    assert (change.kind, change.outcome) == ("type_change", APPLY)
    assert change.ddl == ['ALTER TABLE "s"."t" ALTER COLUMN "qty" TYPE bigint']


def test_narrowing_pauses_with_the_statement_it_needs():
    source = rel(col(1, "id", not_null=True), col(2, "qty", not_null=True), col(3, "note", "character varying(5)"))
    change = only(plan_table("s.t", BASE, source, TARGET, "propagate"))
    assert change.outcome == BLOCK
    assert change.ddl == ['ALTER TABLE "s"."t" ALTER COLUMN "note" TYPE character varying(5) USING '
                          '"note"::character varying(5)']


def test_a_change_already_made_on_the_target_is_satisfied():
    source = rel(col(1, "id", not_null=True), col(2, "qty", not_null=True), col(3, "note", "character varying(5)"))
    fixed = target(("id", "integer", True), ("qty", "integer", True), ("note", "character varying(5)"))
    assert only(plan_table("s.t", BASE, source, fixed, "propagate")).outcome == NOOP


def test_renamed_column_pauses_until_the_target_has_the_new_name():
    source = rel(col(1, "id", not_null=True), col(2, "quantity", not_null=True),
                 col(3, "note", "character varying(10)"))
    change = only(plan_table("s.t", BASE, source, TARGET, "propagate"))
    assert (change.kind, change.outcome) == ("rename_column", BLOCK)
    assert change.ddl == ['ALTER TABLE "s"."t" RENAME COLUMN "qty" TO "quantity"']
    renamed = target(("id", "integer", True), ("quantity", "integer", True), ("note", "character varying(10)"))
    assert only(plan_table("s.t", BASE, source, renamed, "propagate")).outcome == NOOP


def test_dropped_and_renamed_tables_pause():
    dropped = only(plan_table("s.t", BASE, None, TARGET, "propagate"))
    assert (dropped.kind, dropped.outcome) == ("table_dropped", BLOCK) and "no longer exists" in dropped.message
    renamed = only(plan_table("s.t", BASE, None, TARGET, "ignore", renamed_to="s.t2"))
    assert (renamed.kind, renamed.outcome) == ("table_renamed", BLOCK) and "s.t2" in renamed.message


def test_source_drop_not_null_drops_it_on_the_target():
    source = rel(col(1, "id", not_null=True), col(2, "qty"), col(3, "note", "character varying(10)"))
    change = only(plan_table("s.t", BASE, source, TARGET, "propagate"))
    assert (change.kind, change.outcome) == ("nullability", APPLY)


def test_default_change_needs_nothing_on_the_target():
    source = rel(col(1, "id", not_null=True), col(2, "qty", not_null=True, default="1"),
                 col(3, "note", "character varying(10)"))
    assert only(plan_table("s.t", BASE, source, TARGET, "propagate")).outcome == NOOP


def test_pause_policy_holds_every_change():
    source = rel(*BASE["columns"], col(4, "w"))
    plan = plan_table("s.t", BASE, source, TARGET, "pause")
    assert [c.outcome for c in plan.changes] == [BLOCK] and plan.to_apply == []


def test_ignore_policy_does_not_copy_new_columns_and_remembers_them():
    source = rel(*BASE["columns"], col(4, "w"))
    plan = plan_table("s.t", BASE, source, TARGET, "ignore")
    assert only(plan).outcome == IGNORED and plan.ignored == ["w"]
    # Leaving ignore: the column is added, and its past values need a resync.
    after = plan_table("s.t", source, source, TARGET, "propagate", ignored=[])
    assert only(after).outcome == APPLY and only(after).needs_resync


def test_no_change_no_plan():
    assert plan_table("s.t", BASE, BASE, TARGET, "propagate").changes == []


def test_missing_value_text():
    assert [parse_missing_value(x) for x in ['{7}', '{"a b"}', '{{1,2}}', '{NULL}', '{"x\\"y"}', None]] == \
        ["7", "a b", "{1,2}", None, 'x"y', None]


def test_add_column_after_a_table_rewrite_uses_a_literal_default():
    """ALTER COLUMN ... TYPE rewrites the table and forgets the stored value; a literal default is that value."""
    source = rel(*BASE["columns"], col(4, "flag", "text", not_null=True, default="'new'::text"))
    change = only(plan_table("s.t", BASE, source, TARGET, "propagate"))
    assert change.ddl == ["ALTER TABLE \"s\".\"t\" ADD COLUMN IF NOT EXISTS \"flag\" text DEFAULT 'new'::text NOT NULL"]
    assert not change.needs_resync
