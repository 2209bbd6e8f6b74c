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

from core.errors import Unauthorized, ValidationError
from core.extensions import csrf

api = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)

_PATHS: dict[str, dict] = {}
_SCHEMAS: dict[str, dict] = {}


# Answers every operation may give, described once for all of them.
COMMON_RESPONSES = {
    "400": "Malformed request: not JSON, nested too deeply, text with a NUL byte or a broken character, "
           "a number out of range",
    "500": "Server error: nothing was saved",
    "503": "The database is busy: nothing was saved, try again (Retry-After)",
}


def document(path: str, method: str, spec: dict) -> None:
    """Describe one operation (OpenAPI 3.1 operation object) of the API; the common error
    answers are added to it."""
    responses = spec.setdefault("responses", {})
    for status, description in COMMON_RESPONSES.items():
        responses.setdefault(status, json_content(description, ERROR))
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


# --- checking JSON bodies (every package's API answers 422 with the same shape) -----------


def invalid(errors: dict[str, str]) -> ValidationError:
    """The 422 for the fields in `errors` (field -> message)."""
    return ValidationError(_("Some information is missing or invalid."), fields=errors)


def is_whole(value) -> bool:
    """A JSON integer (JSON true/false are not numbers)."""
    return isinstance(value, int) and not isinstance(value, bool)


def text_field(body: dict, name: str, errors: dict, *, limit: int | None = None, required: bool = False) -> str:
    """body[name] as text ("" when absent); a problem goes into `errors`."""
    value = body.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = _("Must be text.")
        return ""
    if required and not value.strip():
        errors[name] = _("This field is required.")
    elif limit is not None and len(value.strip()) > limit:
        errors[name] = _("At most %(n)d characters.", n=limit)
    return value


def trigger_and_version(body: dict, workflow, errors: dict) -> tuple[str, int]:
    """The `trigger` (one of the workflow's) and expected `version` of a transition request."""
    trigger, version = body.get("trigger"), body.get("version")
    if not isinstance(trigger, str) or not trigger:
        errors["trigger"] = _("This field is required.")
    elif trigger not in workflow.triggers():
        errors["trigger"] = _("Unknown action: %(trigger)s.", trigger=trigger)
    if version is None:
        errors["version"] = _("This field is required.")
    elif not is_whole(version):
        errors["version"] = _("Must be a whole number.")
    return trigger, version


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
            "description": "Errors answer {error, message[, fields]}: 400 malformed request, 404 outside "
                           "jurisdiction, 403 inside it but not allowed, 405 wrong method (with Allow), "
                           "409 wrong state or stale version, 422 invalid data, 503 busy (with Retry-After).",
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
