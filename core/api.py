"""The JSON API blueprint (/api/v1) and its OpenAPI document.

Packages add routes to `api` and describe them with `document()`; the document is
served at /api/v1/openapi.json. Browser sessions send the CSRF token in the
X-CSRFToken header; integrations send a personal token as `Authorization: Bearer`.
"""
from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from core.errors import Unauthorized
from core.extensions import csrf

api = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)

_PATHS: dict[str, dict] = {}
_SCHEMAS: dict[str, dict] = {}


def document(path: str, method: str, spec: dict) -> None:
    """Describe one operation (OpenAPI 3.1 operation object) of the API."""
    _PATHS.setdefault(path, {})[method.lower()] = spec


def schema(name: str, spec: dict) -> None:
    _SCHEMAS[name] = spec


JSON = "application/json"
ERROR = {"$ref": "#/components/schemas/Error"}


def ref(name: str) -> dict[str, str]:
    """A reference to a schema registered with schema()."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(description: str, body_schema: dict) -> dict[str, Any]:
    """A response (or request body) object whose JSON body follows `body_schema`."""
    return {"description": description, "content": {JSON: {"schema": body_schema}}}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip() or None
    return None


@api.before_request
def _protect() -> None:
    """Session-authenticated writes must carry the CSRF token (header X-CSRFToken);
    token-authenticated requests carry no cookie, so CSRF does not apply to them."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if bearer_token() is not None:
        return
    csrf.protect()


@api.route("/openapi.json")
def openapi():
    return jsonify({
        "openapi": "3.1.0",
        "info": {
            "title": "wuji renovation governance API",
            "version": "1",
            "description": "Errors answer {error, message[, fields]}: 404 outside jurisdiction, "
                           "403 inside it but not allowed, 409 wrong state or stale version, 422 invalid data.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": current_app.config.get("SESSION_COOKIE_NAME", "session")},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
                **_SCHEMAS,
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": dict(sorted(_PATHS.items())),
    })


def require_login():
    """API routes answer 401 JSON (not a redirect to the login page) without a
    session or a valid token."""
    if not current_user.is_authenticated:
        raise Unauthorized(_("Please log in first."))
    return current_user._get_current_object()  # the Person itself, not the proxy
