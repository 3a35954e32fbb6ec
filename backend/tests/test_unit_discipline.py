"""The transaction discipline (docs/architecture.md): session_scope's unit of work, and no blocking route on the
event loop."""

import ast
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, func, insert, select

from cdcflow.core.db import make_session_factory, session_scope

SRC = Path(__file__).resolve().parents[1] / "src" / "cdcflow"


@pytest.fixture()
def factory():
    engine = create_engine("sqlite://")
    meta = MetaData()
    table = Table("t", meta, Column("id", Integer, primary_key=True))
    meta.create_all(engine)
    yield make_session_factory(engine), table
    engine.dispose()


def _count(factory, table) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(table))


def test_a_return_inside_session_scope_commits(factory):
    make, table = factory

    def write_and_return() -> str:
        with session_scope(make) as session:
            session.execute(insert(table).values(id=1))
            return "early"

    assert write_and_return() == "early"
    assert _count(make, table) == 1


def test_an_error_inside_session_scope_rolls_back(factory):
    make, table = factory
    with pytest.raises(RuntimeError):
        with session_scope(make) as session:
            session.execute(insert(table).values(id=1))
            raise RuntimeError("boom")
    assert _count(make, table) == 0


def test_no_async_route_takes_a_database_session():
    """An `async def` route runs on the event loop: a blocking database call there stalls every request."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.AsyncFunctionDef) and any(
                    isinstance(n, ast.Name) and n.id in ("Session", "SessionDep")
                    for a in node.args.args + node.args.kwonlyargs if a.annotation is not None
                    for n in ast.walk(a.annotation)):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}")
    assert not offenders
