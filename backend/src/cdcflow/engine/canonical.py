"""One canonical text form of a row, whatever database it was read from: what "the target equals the source" means
across PostgreSQL and MariaDB (verification and the cross-database tests).

Per value, by the neutral column type (engine/catalog.py): numerics without trailing zeros (numeric(p,s) has the
same scale on both sides; an unconstrained numeric becomes DECIMAL(65,30) on MariaDB), timestamps as UTC ISO text
with microseconds, booleans as t/f (MariaDB returns 0/1), json parsed and re-serialised with sorted keys, bytes as
hex, times of day with microseconds, NULL as \\N.
"""

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

NULL = "\\N"


def canonical(value, column_type: str) -> str:
    if value is None:
        return NULL
    if column_type == "boolean":
        return "t" if value in (True, 1) else "f"
    if column_type in ("json", "jsonb"):
        parsed = json.loads(value, parse_float=Decimal) if isinstance(value, (str, bytes)) else value
        return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_number)
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, timedelta):
        value = (datetime.min + value).time()
    if isinstance(value, time):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, UUID):
        return str(value)
    if column_type == "uuid":
        return str(value).lower()
    return str(value)


def _json_number(value):
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    raise TypeError(type(value).__name__)


def row_text(row, column_types: list[str]) -> str:
    return "|".join(canonical(v, t) for v, t in zip(row, column_types))


def fingerprint(rows, column_types: list[str]) -> tuple[int, str]:
    """(rows, md5 over every row's canonical text, in the order given): equal fingerprints, equal tables."""
    digest, count = hashlib.md5(), 0
    for row in rows:
        digest.update(row_text(row, column_types).encode())
        digest.update(b"\n")
        count += 1
    return count, digest.hexdigest()
