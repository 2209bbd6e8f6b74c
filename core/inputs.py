"""Input made safe in one place, for every route (the HTML pages and the JSON API).

- Ids in URLs: the `int` converter only matches ids a row can have (PostgreSQL's
  Integer, the id columns' type): /issues/2147483648 answers 404, not a database error.
- Text: NUL bytes (PostgreSQL text cannot hold them) and lone surrogates (not Unicode
  text) in the query string, a form or a JSON body answer 400 in the user's language.
- JSON: nesting deeper than MAX_JSON_DEPTH and integers outside the id range are refused
  as a bad request, before any view reads them.
- What still reaches the database out of range (a number typed into a form field that
  is an id) answers 400 through the error handler of `app.py` (DataError, OverflowError).
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from core.errors import DomainError

MAX_ID = 2**31 - 1  # PostgreSQL Integer, the type of every id column
MAX_JSON_DEPTH = 32
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


class UnsafeInput(DomainError):
    status = 400
    code = "unsafe_input"


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` for ids: 0 to MAX_ID; anything larger does not match the route (404)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _json_problem(value: Any) -> str | None:
    """Why a parsed JSON document is refused, or None: walks it without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return "depth"
        if isinstance(item, dict):
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            if _UNSAFE.search(item):
                return "text"
        elif isinstance(item, int) and not isinstance(item, bool) and not -MAX_ID - 1 <= item <= MAX_ID:
            return "number"
    return None


class SafeJSONProvider(DefaultJSONProvider):
    """Request bodies parse as usual, except that documents nested too deeply (Python's
    parser would overflow its stack) fail like malformed JSON: a 400."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


MESSAGES = {
    "text": lambda: _("The request contains characters that are not text (a NUL byte or a broken character)."),
    "depth": lambda: _("The request body is nested too deeply."),
    "number": lambda: _("A number in the request is out of range."),
}


def check_request() -> None:
    """before_request: refuse unsafe text in the query string, the form and a JSON body."""
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if any(isinstance(text, str) and _UNSAFE.search(text) for text in (key, value)):
                raise UnsafeInput(MESSAGES["text"]())
    if request.is_json and request.content_length:
        body = request.get_json(silent=True)
        problem = _json_problem(body) if body is not None else None
        if problem:
            raise UnsafeInput(MESSAGES[problem]())


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    app.json_provider_class = SafeJSONProvider
    app.json = SafeJSONProvider(app)
    app.before_request(check_request)
