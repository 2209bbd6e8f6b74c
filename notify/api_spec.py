"""OpenAPI 3.1 description of the notifications API (notify/api.py)."""
from __future__ import annotations

from typing import Any

from core.api import JSON, document, json_content, ref, schema
from issues.api_spec import TIME, error_responses

INTEGER = {"type": "integer"}


def _schemas(kinds: tuple[str, ...], deliveries: tuple[str, ...]) -> dict[str, dict]:
    kind = {"type": "string", "enum": list(kinds)}
    delivery = {"type": "string", "enum": list(deliveries),
                "description": "inapp: the inbox only; email: mailed at once; digest: in the daily email"}
    return {
        "Notification": {
            "type": "object",
            "required": ["id", "kind", "title", "subject", "created_at", "read_at"],
            "properties": {
                "id": INTEGER,
                "kind": kind,
                "kind_label": {"type": "string"},
                "title": {"type": "string", "description": "in the caller's language"},
                "body": {"type": "string"},
                "url": {"type": ["string", "null"], "description": "the page of what it is about"},
                "subject": {"type": "object", "properties": {"type": {"type": "string"}, "id": INTEGER}},
                "created_at": TIME,
                "read_at": TIME,
                "delivery": delivery,
                "email_state": {"type": ["string", "null"], "enum": ["pending", "sending", "sent", "failed", None]},
            },
        },
        "NotificationList": {
            "type": "object",
            "required": ["items", "total", "page", "per_page", "unread"],
            "properties": {"items": {"type": "array", "items": ref("Notification")}, "total": INTEGER,
                           "page": INTEGER, "per_page": INTEGER, "unread": INTEGER},
        },
        "NotificationPreferences": {
            "type": "object",
            "required": ["email", "deliveries"],
            "properties": {
                "email": {"type": ["string", "null"], "format": "email"},
                "deliveries": {"type": "object", "propertyNames": kind, "additionalProperties": delivery},
            },
        },
        "NotificationPreferencesUpdate": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "email": {"type": ["string", "null"], "description": "empty or null removes it"},
                "deliveries": {"type": "object", "propertyNames": kind, "additionalProperties": delivery,
                               "description": "the kinds given; the others keep their choice"},
            },
        },
        "MarkedRead": {"type": "object", "required": ["marked", "unread"],
                       "properties": {"marked": INTEGER, "unread": INTEGER}},
    }


def _operations(max_per_page: int) -> dict[tuple[str, str], dict[str, Any]]:
    notification_id = {"name": "notification_id", "in": "path", "required": True, "schema": INTEGER}
    return {
        ("/notifications", "get"): {
            "operationId": "listNotifications",
            "summary": "The caller's notifications, newest first",
            "tags": ["notifications"],
            "parameters": [
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "per_page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": max_per_page, "default": 30}},
                {"name": "unread", "in": "query", "schema": {"type": "string", "enum": ["1", "true"]},
                 "description": "only the unread ones"},
            ],
            "responses": {"200": json_content("One page", ref("NotificationList")), **error_responses(401, 422)},
        },
        ("/notifications/{notification_id}/read", "post"): {
            "operationId": "readNotification",
            "summary": "Mark one of the caller's notifications read (another person's is 404)",
            "tags": ["notifications"],
            "parameters": [notification_id],
            "responses": {"200": json_content("The notification", ref("Notification")),
                          **error_responses(400, 401, 404)},
        },
        ("/notifications/read-all", "post"): {
            "operationId": "readAllNotifications",
            "summary": "Mark all the caller's notifications read",
            "tags": ["notifications"],
            "responses": {"200": json_content("How many were marked", ref("MarkedRead")), **error_responses(400, 401)},
        },
        ("/notifications/preferences", "get"): {
            "operationId": "getNotificationPreferences",
            "summary": "The caller's email address and how each kind of notification reaches them",
            "tags": ["notifications"],
            "responses": {"200": json_content("The preferences", ref("NotificationPreferences")),
                          **error_responses(401)},
        },
        ("/notifications/preferences", "put"): {
            "operationId": "putNotificationPreferences",
            "summary": "Change the caller's email address and delivery per kind",
            "tags": ["notifications"],
            "requestBody": {"required": True, "content": {JSON: {"schema": ref("NotificationPreferencesUpdate")}}},
            "responses": {"200": json_content("The preferences now", ref("NotificationPreferences")),
                          **error_responses(400, 401, 422)},
        },
    }


def describe(*, kinds: tuple[str, ...], deliveries: tuple[str, ...], max_per_page: int) -> None:
    for name, spec in _schemas(kinds, deliveries).items():
        schema(name, spec)
    for (path, method), spec in _operations(max_per_page).items():
        document(path, method, spec)
