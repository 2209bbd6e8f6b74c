"""JSON API for renovation issues on the /api/v1 blueprint (core.api).

Thin views: parse and type-check the input, call issues.services, turn the result
into JSON. Domain errors become JSON answers in the application's one handler:
404 outside the caller's jurisdiction, 403 inside it but not allowed, 409 wrong
state or stale version (with the current version), 422 invalid data (with a
`fields` map). Every operation is described for /api/v1/openapi.json.
"""
from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from flask import Response, jsonify, request, url_for
from flask_babel import gettext as _

from core.api import api, invalid, require_login, trigger_and_version
from core.db import utcnow
from core.errors import DomainError, InvalidTransition
from core.extensions import db
from issues import api_spec, services
from rules import categories
from rules.policy import current_policy
from workflow import timeline
from workflow.engine import Transition
from issues.models import RenovationIssue
from issues.renovation import WORKFLOW
from workflow.timeline import iso_utc, org_json

QUEUES = ("mine", "all", "raised")
PLACE_KINDS = ("estate", "building", "unit", "household")
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
LEVELS = tuple(dict.fromkeys(s.level for s in WORKFLOW.states.values() if s.level))
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes"), ("0", "false", "no", "")
DATA_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Keyword names of the service call that request data must never shadow.
RESERVED_KEYS = frozenset({"trigger", "version", "actor", "issue_id", "model", "subject_id", "expected_version"})


class MalformedRequest(DomainError):
    """The body is not a JSON object."""

    status = 400
    code = "malformed_request"


# --- input ----------------------------------------------------------------------


def json_object() -> dict:
    """The request body as a JSON object, or 400."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise MalformedRequest(_("The request body must be a JSON object."))
    return body


def _int_arg(name: str, default: int, low: int, high: int, errors: dict) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        errors[name] = _("Give a whole number from %(low)d to %(high)d.", low=low, high=high)
        return default
    return value


def _choice_arg(name: str, allowed: tuple[str, ...] | list[str], errors: dict, default: str | None = None):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        errors[name] = _("Unknown value.")
        return default
    return raw


def _bool_arg(name: str, errors: dict) -> bool:
    raw = request.args.get(name, "").strip().lower()
    if raw in TRUE_WORDS:
        return True
    if raw not in FALSE_WORDS:
        errors[name] = _("Give true or false.")
    return False


def issue_filter_from_args() -> services.IssueFilter:
    errors: dict[str, str] = {}
    f = services.IssueFilter(
        queue=_choice_arg("queue", QUEUES, errors, default="all"),
        state=_choice_arg("state", list(WORKFLOW.states), errors),
        level=_choice_arg("level", LEVELS, errors),
        category=_choice_arg("category", tuple(categories.CATEGORIES), errors),
        overdue=_bool_arg("overdue", errors),
        org_id=_int_arg("org", 0, 1, 2**31 - 1, errors) or None,
        page=_int_arg("page", 1, 1, 2**31 - 1, errors),
        per_page=_int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE, errors),
    )
    if errors:
        raise invalid(errors)
    return f


def _text_fields(body: dict, names: tuple[str, ...], errors: dict) -> dict[str, str]:
    values = {}
    for name in names:
        value = body.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = _("Must be text.")
        values[name] = value if isinstance(value, str) else ""
    return values


def _place(body: dict, errors: dict) -> tuple[str, int]:
    place = body.get("place")
    if not isinstance(place, dict):
        errors["place"] = _("Give the place as {\"kind\": ..., \"id\": ...}.")
        return "", 0
    kind, ident = place.get("kind"), place.get("id")
    if kind not in PLACE_KINDS:
        errors["place.kind"] = _("Unknown value.")
    if not isinstance(ident, int) or isinstance(ident, bool):
        errors["place.id"] = _("Must be a whole number.")
        ident = 0
    return kind or "", ident


def _transition_data(body: dict) -> tuple[str, int, dict[str, str]]:
    """trigger, expected version and the remaining data (as text, like a form sends it)."""
    errors: dict[str, str] = {}
    trigger, version = trigger_and_version(body, WORKFLOW, errors)
    data = {}
    for key, value in body.items():
        if key in ("trigger", "version") or value is None:
            continue
        if key in RESERVED_KEYS or not DATA_KEY.match(key):
            errors[key] = _("Unknown field.")
        elif isinstance(value, bool) or not isinstance(value, (str, int)):
            errors[key] = _("Must be text or a whole number.")
        else:
            data[key] = str(value)
    if errors:
        raise invalid(errors)
    return trigger, version, data


# --- output ---------------------------------------------------------------------


def _place_of(issue: RenovationIssue) -> dict:
    for kind, ident in (("household", issue.household_id), ("unit", issue.unit_id), ("building", issue.building_id)):
        if ident is not None:
            return {"kind": kind, "id": ident}
    return {"kind": "estate", "id": issue.estate_id}


def issue_summary(issue: RenovationIssue, now: datetime) -> dict[str, Any]:
    state = WORKFLOW.state(issue.state)
    return {
        "id": issue.id,
        "title": issue.title,
        "category": issue.category,
        "category_label": str(categories.CATEGORIES.get(issue.category, issue.category)),
        "subcategory": issue.subcategory,
        "subcategory_label": current_policy().subcategory_label(issue.subcategory),
        "direction": issue.direction,
        "state": issue.state,
        "state_label": str(state.label),
        "level": state.level,
        "open": issue.open,
        "overdue": services.is_overdue(issue, now),
        "due_at": iso_utc(issue.due_at),
        "version": issue.version,
        "estate": {"id": issue.estate_id, "name": issue.estate.name},
        "place": _place_of(issue),
        "responsible_org": org_json(issue.responsible_org),
        "created_at": iso_utc(issue.created_at),
        "url": url_for("api.get_issue", issue_id=issue.id),
    }


def _transition_option(t: Transition) -> dict[str, Any]:
    return {
        "trigger": t.trigger,
        "label": str(t.label),
        "reason_required": t.reason,
        "fields": list(t.fields),
        "style": t.style or None,
    }


def issue_detail(issue: RenovationIssue, actor, now: datetime) -> dict[str, Any]:
    state = WORKFLOW.state(issue.state)
    body = issue_summary(issue, now)
    body.update({
        "description": issue.description,
        "public_label": str(state.public_label or state.label),
        "public_note": issue.public_note,
        "place": {**_place_of(issue), "label": issue.place_label},
        "location": issue.location or "",
        "point": ({"latitude": float(issue.latitude), "longitude": float(issue.longitude)}
                  if issue.latitude is not None else None),
        "raised_by": {"id": issue.raised_by_id, "name": issue.raised_by.name},
        "state_entered_at": iso_utc(issue.state_entered_at),
        "progress": issue.progress,
        "satisfaction": issue.satisfaction,
        "plan_id": issue.plan_id,
        "merged_into_id": issue.merged_into_id,
        "resume_state": issue.resume_state,
        "timeline": timeline.as_json(issue),
        "transitions": [_transition_option(t) for t in WORKFLOW.available(issue, actor)],
    })
    return body


def _page_links(f: services.IssueFilter, pages: int) -> dict[str, str | None]:
    args = {key: value for key, value in request.args.items() if key != "page"}

    def link(page: int) -> str:
        return url_for("api.list_issues", **args, page=page)

    return {
        "self": link(f.page),
        "first": link(1),
        "last": link(pages),
        "prev": link(f.page - 1) if f.page > 1 else None,
        "next": link(f.page + 1) if f.page < pages else None,
    }


# --- views ----------------------------------------------------------------------


@api.get("/issues")
def list_issues() -> Response:
    actor = require_login()
    f = issue_filter_from_args()
    now = utcnow()
    items, total = services.list_issues(actor, f, now)
    pages = max(1, math.ceil(total / f.per_page))
    return jsonify({
        "items": [issue_summary(issue, now) for issue in items],
        "total": total,
        "page": f.page,
        "per_page": f.per_page,
        "pages": pages,
        "links": _page_links(f, pages),
    })


@api.post("/issues")
def create_issue() -> tuple[Response, int, dict[str, str]]:
    actor = require_login()
    body = json_object()
    errors: dict[str, str] = {}
    text = _text_fields(body, ("title", "description", "category", "subcategory", "location"), errors)
    kind, ident = _place(body, errors)
    point = body.get("point")
    if point is not None and not (isinstance(point, dict) and all(
            isinstance(point.get(k), (int, float)) and not isinstance(point.get(k), bool)
            for k in ("latitude", "longitude"))):
        errors["point"] = _("Give the map point as {\"latitude\": ..., \"longitude\": ...}.")
    if errors:
        raise invalid(errors)
    point = point or {}
    spot = services.Spot.parse(text.pop("location"), point.get("latitude"), point.get("longitude"))
    issue = services.raise_issue(actor, place_kind=kind, place_id=ident, spot=spot, **text)
    location = url_for("api.get_issue", issue_id=issue.id)
    return jsonify(issue_detail(issue, actor, utcnow())), 201, {"Location": location}


@api.get("/issues/<int:issue_id>")
def get_issue(issue_id: int) -> Response:
    actor = require_login()
    issue = services.get_issue(actor, issue_id)
    return jsonify(issue_detail(issue, actor, utcnow()))


@api.post("/issues/<int:issue_id>/transitions")
def fire_transition(issue_id: int) -> Response:
    actor = require_login()
    trigger, version, data = _transition_data(json_object())
    try:
        issue = services.fire_issue(actor, issue_id, trigger, version, **data)
    except InvalidTransition as err:
        raise _with_current_version(err, issue_id) from err
    return jsonify({
        "id": issue.id,
        "trigger": trigger,
        "state": issue.state,
        "state_label": str(WORKFLOW.state_label(issue.state)),
        "version": issue.version,
        "due_at": iso_utc(issue.due_at),
        "responsible_org_id": issue.responsible_org_id,
        "url": url_for("api.get_issue", issue_id=issue.id),
    })


def _with_current_version(err: InvalidTransition, issue_id: int) -> InvalidTransition:
    """Wrong state: say so with the current state and version, like a stale version does."""
    db.session.rollback()
    issue = db.session.get(RenovationIssue, issue_id)
    return InvalidTransition(err.message, version=issue.version, state=issue.state)


api_spec.describe(levels=LEVELS, queues=QUEUES, place_kinds=PLACE_KINDS, max_per_page=MAX_PER_PAGE)
