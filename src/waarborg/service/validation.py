"""Answers to invalid requests (422): where and why, never what was sent.

FastAPI's own handler echoes each invalid value back (``input``, ``ctx``): a too-short
password is sent back in the answer, and a value that is not valid Unicode (a lone
surrogate such as ``"\\ud800"``) cannot be encoded at all, so the answer becomes a 500.
Here a 422 names the field (``loc``), the rule (``msg``) and the error ``type``, exactly
the ``ValidationError`` schema the OpenAPI document publishes, and nothing else.

:func:`lone_surrogate` finds text that is not valid Unicode in a JSON body, so that such
a body is refused (422) before any route sees it (:class:`waarborg.service.app.StrictJson`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

#: A surrogate escape in JSON text (``\\ud800``) or a surrogate encoded as bytes.
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\xed[\xa0-\xbf]")


def _plain(text: str) -> str:
    """``text`` with anything that is not valid Unicode replaced (so it can be encoded)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def public_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validation errors as the API shows them: ``loc``, ``msg`` and ``type`` only.

    Examples
    --------
    >>> public_errors([{"type": "string_too_short", "loc": ("body", "password"),
    ...                 "msg": "String should have at least 12 characters",
    ...                 "input": "hunter2", "ctx": {"min_length": 12}}])
    [{'loc': ['body', 'password'], 'msg': 'String should have at least 12 characters', \
'type': 'string_too_short'}]
    """
    return [
        {
            "loc": [_plain(p) if isinstance(p, str) else p for p in e["loc"]],
            "msg": _plain(str(e["msg"])),
            "type": _plain(str(e["type"])),
        }
        for e in errors
    ]


def invalid_response(errors: Iterable[Mapping[str, Any]]) -> JSONResponse:
    """A 422 answer with :func:`public_errors` as its ``detail``."""
    return JSONResponse({"detail": public_errors(errors)}, status_code=422)


async def request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """The app's handler of :class:`RequestValidationError` (no input echoed)."""
    assert isinstance(exc, RequestValidationError)
    return invalid_response(exc.errors())


def lone_surrogate(body: bytes) -> bool:
    """Whether the JSON ``body`` holds text that is not valid Unicode.

    Python's JSON reader accepts a lone surrogate (``"\\ud800"``, or its bytes), but no
    database, log or answer can store or send it. A pair that forms one character
    (``"\\ud83d\\ude00"``) is fine. Bodies that are not JSON are left to the route.

    Examples
    --------
    >>> lone_surrogate(b'{"name": "\\\\ud800"}'), lone_surrogate(b'{"name": "\\\\ud83d\\\\ude00"}')
    (True, False)
    """
    if not _SURROGATE.search(body):
        return False
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return not _encodable(value)


def _encodable(value: Any) -> bool:
    """Whether every text in a parsed JSON value can be encoded (no recursion: any depth)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True
