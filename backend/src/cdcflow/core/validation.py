"""Input checks every route gets before its own validation: no NUL character anywhere in the request.

PostgreSQL text cannot hold U+0000, so a NUL that reaches a query fails inside the driver (a 500). Refusing it at
the boundary, in the path, the query string and every string of a JSON body, answers 422 on every route at once.
"""

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

BIGINT_MAX = 2**63 - 1  # ids are PostgreSQL bigint: a larger number in a query is a 422, not a driver error
_NUL = "\x00"
_MESSAGE = "NUL characters (\\u0000) are not allowed"


def _error(*loc: str | int) -> RequestValidationError:
    return RequestValidationError([{"type": "nul_character", "loc": loc, "msg": _MESSAGE, "input": None}])


def _nul_in_json(value: Any) -> tuple[str | int, ...] | None:
    """Where the first NUL is (the path of keys and indexes to it, as a validation error names a field), or None."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        loc, item = stack.pop()
        if isinstance(item, str):
            if _NUL in item:
                return loc
        elif isinstance(item, dict):
            for key, child in item.items():
                if _NUL in key:
                    return loc
                stack.append(((*loc, key), child))
        elif isinstance(item, list):
            stack.extend(((*loc, index), child) for index, child in enumerate(item))
    return None


async def refuse_nul_characters(request: Request) -> None:
    if _NUL in request.scope.get("path", ""):
        raise _error("path")
    for key, value in request.query_params.multi_items():
        if _NUL in key or _NUL in value:
            raise _error("query", key.replace(_NUL, "\\u0000")[:64])
    body = await request.body()
    # A NUL can only be in a JSON string as the escape \u0000; parse again only when that text occurs.
    if b"\\u0000" in body:
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            return  # not JSON: the route's own validation refuses it
        loc = _nul_in_json(parsed)
        if loc is not None:
            raise _error("body", *loc)
