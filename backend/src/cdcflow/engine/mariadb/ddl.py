"""MariaDB types to and from the neutral table model, and the DDL of a MariaDB target table.

The neutral model spells types as PostgreSQL does (engine/catalog.py): a PostgreSQL source needs no translation, a
MariaDB source translates its catalog on the way in (`neutral_type`), a MariaDB target on the way out
(`mariadb_type`). The mapping, and why:

| neutral (PostgreSQL)            | MariaDB target            | why |
|---------------------------------|---------------------------|-----|
| smallint, integer, bigint       | SMALLINT, INT, BIGINT     | same ranges |
| numeric(p,s)                    | DECIMAL(p,s)              | exact, scale kept (p <= 65, s <= 38) |
| numeric (unconstrained)         | DECIMAL(65,30)            | MariaDB has no unbounded decimal; values need <= 35 integer digits |
| real, double precision          | FLOAT, DOUBLE             | same IEEE types |
| boolean                         | TINYINT(1)                | MariaDB's BOOLEAN is this alias |
| character varying(n), character(n) | VARCHAR(n), CHAR(n)    | same limits (utf8mb4) |
| text, varchar, xml              | LONGTEXT                  | TEXT stops at 64 KB; LONGTEXT at 4 GB like text's 1 GB |
| text in a primary key           | VARCHAR(768)              | an index key holds at most 3072 bytes = 768 utf8mb4 characters |
| json, jsonb                     | JSON                      | MariaDB's JSON is LONGTEXT with a json_valid check |
| bytea                           | LONGBLOB                  | |
| uuid                            | CHAR(36)                  | text form; understood by the JDBC sink and the MariaDB connector alike |
| timestamp with time zone        | DATETIME(p)               | holds the UTC time (every session cdcflow opens runs in UTC); TIMESTAMP would stop in 2038 |
| timestamp without time zone     | DATETIME(p)               | wall-clock time as is |
| date                            | DATE                      | |
| time [with time zone]           | TIME(p)                   | a zone offset is dropped (the value is taken as UTC) |
| enums, domains (non-built-in)   | VARCHAR(255)              | labels are at most 63 bytes in PostgreSQL; the values are not known to the target |

Arrays, intervals, ranges, geometric and network types are refused at start for a MariaDB target: the JDBC sink
cannot write them to MariaDB.

A MariaDB source maps back: TINYINT(1)/BOOL -> boolean, TINYINT -> smallint, MEDIUMINT -> integer, unsigned
integers one size up (BIGINT UNSIGNED -> numeric(20,0)), DECIMAL -> numeric, DATETIME -> timestamp without time
zone, TIMESTAMP -> timestamp with time zone, TIME -> time, *TEXT, ENUM, SET -> text, *BLOB, BINARY -> bytea, JSON
(json_valid check) -> jsonb, UUID -> uuid, YEAR -> smallint.
"""

import re

from cdcflow.engine.catalog import Column, TableDef
from cdcflow.engine.mariadb.session import qi, qt

MAX_KEY_CHARS = 768


class UnsupportedType(ValueError):
    """A column whose type a MariaDB target cannot hold; the message names it."""


_SIMPLE = {"smallint": "SMALLINT", "integer": "INT", "bigint": "BIGINT", "real": "FLOAT",
           "double precision": "DOUBLE", "boolean": "TINYINT(1)", "text": "LONGTEXT", "character varying": "LONGTEXT",
           "xml": "LONGTEXT", "json": "JSON", "jsonb": "JSON", "bytea": "LONGBLOB", "uuid": "CHAR(36)",
           "date": "DATE", "numeric": "DECIMAL(65,30)", "oid": "BIGINT", "money": "DECIMAL(19,2)"}


def _precision(text: str, default: int = 6) -> int:
    match = re.search(r"\((\d+)\)", text)
    return min(int(match.group(1)), 6) if match else default


def mariadb_type(column: Column, in_key: bool = False) -> str:
    t = column.type
    if not column.builtin_type:
        return "VARCHAR(255)"
    if t.endswith("[]") or t in ("interval",) or t.startswith(("interval", "int4range", "int8range", "numrange",
                                                                 "tsrange", "tstzrange", "daterange")) \
            or t in ("inet", "cidr", "macaddr", "point", "line", "box", "polygon", "circle", "path", "lseg"):
        raise UnsupportedType(f"column {column.name} ({t}) has no MariaDB equivalent the sink can write")
    if t in ("text", "character varying", "xml") and in_key:
        return f"VARCHAR({MAX_KEY_CHARS})"
    if t in _SIMPLE:
        return _SIMPLE[t]
    if match := re.fullmatch(r"numeric\((\d+),(\d+)\)", t.replace(" ", "")):
        return f"DECIMAL({match.group(1)},{match.group(2)})"
    if match := re.fullmatch(r"character varying\((\d+)\)", t):
        return f"VARCHAR({match.group(1)})"
    if match := re.fullmatch(r"(?:character|bpchar)\((\d+)\)", t):
        n = int(match.group(1))
        return f"CHAR({n})" if n <= 255 else f"VARCHAR({n})"
    if t in ("character", "bpchar"):
        return "CHAR(1)"
    if t.startswith("timestamp"):
        return f"DATETIME({_precision(t)})"
    if t.startswith("time"):
        return f"TIME({_precision(t)})"
    if t.startswith("bit"):
        return "BIGINT"
    raise UnsupportedType(f"column {column.name} ({t}) has no MariaDB equivalent the sink can write")


def create_table_sql(table: TableDef, with_key: bool) -> str:
    key = set(table.primary_key)
    parts = [f"{qi(c.name)} {mariadb_type(c, c.name in key)}{' NOT NULL' if c.not_null or c.name in key else ''}"
             for c in table.columns]
    if with_key and table.primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(map(qi, table.primary_key))})")
    return f"CREATE TABLE IF NOT EXISTS {qt(table.schema, table.name)} ({', '.join(parts)}) " \
           "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"


def _length(column_type: str) -> int:
    return int(re.search(r"\((\d+)\)", column_type).group(1))


def neutral_type(data_type: str, column_type: str, is_json: bool) -> tuple[str, bool]:
    """(neutral type, built-in) of a MariaDB column from information_schema's DATA_TYPE and COLUMN_TYPE."""
    d, c = data_type.lower(), column_type.lower()
    unsigned = "unsigned" in c
    if is_json:
        return "jsonb", True
    if d in ("tinyint", "bool", "boolean") and re.match(r"tinyint\(1\)", c) or d in ("bool", "boolean"):
        return "boolean", True
    if d == "bit":
        return ("boolean", True) if c == "bit(1)" else ("bigint", True)
    if d in ("tinyint", "year"):
        return "smallint", True
    if d == "smallint":
        return ("integer" if unsigned else "smallint"), True
    if d in ("mediumint",):
        return "integer", True
    if d in ("int", "integer"):
        return ("bigint" if unsigned else "integer"), True
    if d == "bigint":
        return ("numeric(20,0)" if unsigned else "bigint"), True
    if d in ("decimal", "numeric"):
        match = re.search(r"\((\d+),(\d+)\)", c)
        return (f"numeric({match.group(1)},{match.group(2)})" if match else "numeric"), True
    if d == "float":
        return "real", True
    if d in ("double", "real"):
        return "double precision", True
    if d == "varchar":
        return f"character varying({_length(c)})", True
    if d == "char":
        return f"character({_length(c)})", True
    if d in ("tinytext", "text", "mediumtext", "longtext", "enum", "set"):
        return "text", True
    if d in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"):
        return "bytea", True
    if d == "date":
        return "date", True
    if d == "datetime":
        return f"timestamp({_precision(c, 0)}) without time zone", True
    if d == "timestamp":
        return f"timestamp({_precision(c, 0)}) with time zone", True
    if d == "time":
        return f"time({_precision(c, 0)}) without time zone", True
    if d == "uuid":
        return "uuid", True
    if d == "json":
        return "jsonb", True
    return "text", False
