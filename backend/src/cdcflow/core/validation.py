"""Input checks every route gets before its own validation: no NUL character anywhere in the request.

PostgreSQL text cannot hold U+0000, so a NUL that reaches a query fails inside the driver (a 500). Refusing it at
the boundary, in the path, the query string and every string of a JSON body, answers 422 on every route at once.
"""

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

_NUL = "\x00"
_MESSAGE = "NUL characters (\\u0000) are not allowed"


def _error(*loc: str | int) -> RequestValidationError:
    return RequestValidationError([{"type": "nul_character", "loc": loc, "msg": _MESSAGE, "input": None}])


def _nul_in_json(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


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
        if _nul_in_json(parsed):
            raise _error("body")
