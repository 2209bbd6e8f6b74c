"""JSON API of the inbox and the preferences on the /api/v1 blueprint; thin views over
notify.services, described in notify/api_spec.py. Another person's notification is 404."""
from __future__ import annotations

from flask import Response, jsonify, request

from core.api import api, invalid, require_login
from issues.api import json_object
from notify import api_spec, services
from notify.messages import words
from notify.models import DELIVERIES, KINDS, Notification
from workflow.timeline import iso_utc

DEFAULT_PER_PAGE, MAX_PER_PAGE = 30, 100


def _int_arg(name: str, default: int, high: int, errors: dict) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= high:
        errors[name] = f"1..{high}"
        return default
    return value


def notification_json(notification: Notification) -> dict:
    text = words(notification)
    return {
        "id": notification.id,
        "kind": notification.kind,
        "kind_label": text.kind_label,
        "title": text.title,
        "body": text.body,
        "url": text.url or None,
        "subject": {"type": notification.subject_type, "id": notification.subject_id},
        "created_at": iso_utc(notification.created_at),
        "read_at": iso_utc(notification.read_at),
        "delivery": notification.delivery,
        "email_state": notification.email_state,
    }


@api.get("/notifications")
def list_notifications() -> Response:
    person = require_login()
    errors: dict[str, str] = {}
    page = _int_arg("page", 1, 1_000_000, errors)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE, errors)
    if errors:
        raise invalid(errors)
    unread_only = request.args.get("unread") in ("1", "true")
    rows, total = services.inbox(person, page=page, per_page=per_page, unread_only=unread_only)
    return jsonify({"items": [notification_json(n) for n in rows], "total": total, "page": page,
                    "per_page": per_page, "unread": services.unread_count(person)})


@api.post("/notifications/<int:notification_id>/read")
def read_notification(notification_id: int) -> Response:
    person = require_login()
    return jsonify(notification_json(services.mark_read(person, notification_id)))


@api.post("/notifications/read-all")
def read_all_notifications() -> Response:
    person = require_login()
    return jsonify({"marked": services.mark_all_read(person), "unread": 0})


def _preferences_json(preferences: services.Preferences) -> dict:
    return {"email": preferences.email or None, "deliveries": preferences.deliveries}


@api.get("/notifications/preferences")
def get_notification_preferences() -> Response:
    person = require_login()
    return jsonify(_preferences_json(services.preferences(person)))


@api.put("/notifications/preferences")
def put_notification_preferences() -> Response:
    person = require_login()
    body = json_object()
    errors: dict[str, str] = {}
    deliveries = body.get("deliveries", {})
    if not isinstance(deliveries, dict) or not all(isinstance(v, str) for v in deliveries.values()):
        errors["deliveries"] = "{kind: delivery}"
    email = body.get("email", services.preferences(person).email)
    if email is not None and not isinstance(email, str):
        errors["email"] = "text"
    unknown = [key for key in body if key not in ("deliveries", "email")]
    for key in unknown:
        errors[key] = "unknown field"
    if errors:
        raise invalid(errors)
    return jsonify(_preferences_json(services.save_preferences(person, deliveries, email)))


api_spec.describe(kinds=tuple(KINDS), deliveries=tuple(DELIVERIES), max_per_page=MAX_PER_PAGE)
