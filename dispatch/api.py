"""JSON API for tasks sent down the levels (dispatch.models) on the /api/v1 blueprint.

Thin views over dispatch.services, answering like the issue API
(issues/api.py): 404 outside the caller's jurisdiction, 403 inside it but not
allowed, 409 wrong state or stale version (with the assignment's current version and
state), 422 invalid data with a `fields` map. The launching node cancels a dispatch
by firing "cancel", with a reason, on its own assignment. Every operation is
described for /api/v1/openapi.json (dispatch/api_spec.py).
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask import Response, jsonify, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.api import api, invalid, is_whole, require_login, text_field, trigger_and_version
from core.db import utcnow
from core.errors import InvalidTransition, ValidationError
from core.extensions import db
from dispatch import api_spec as dispatch_api_spec
from dispatch import services
from workflow import timeline
from issues.api import json_object
from dispatch.models import (
    CANCELLED,
    KINDS,
    REPORTED,
    WORKFLOW,
    Dispatch,
    DispatchAssignment,
    unit_lines,
)
from workflow.engine import Transition
from workflow.timeline import iso_utc, org_json

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
MAX_AWAITING = 500
TITLE_MAX, BODY_MAX, REASON_MAX = 200, 5000, 2000
# Field names of the launch form (in the services' errors) -> the names the API takes.
FORM_FIELDS = {"origin": "origin_org_id", "estate": "estate_id", "issue": "issue_id"}
STATUS_LABELS = {
    "open": _l("In progress"),
    REPORTED: _l("Reported up"),
    CANCELLED: _l("Revoked"),
}


# --- input ----------------------------------------------------------------------


def _int_arg(name: str, default: int, high: int, errors: dict) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= high:
        errors[name] = _("Give a whole number from %(low)d to %(high)d.", low=1, high=high)
        return default
    return value


def _optional_id(body: dict, name: str, errors: dict) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not is_whole(value) or value < 1:
        errors[name] = _("Must be a whole number.")
        return None
    return value


def _launch_data(body: dict) -> dict[str, Any]:
    """The launch form's checks: a title, a known kind, the launching org unit."""
    errors: dict[str, str] = {}
    data = {
        "title": text_field(body, "title", errors, limit=TITLE_MAX, required=True),
        "body": text_field(body, "body", errors, limit=BODY_MAX),
        "kind": body.get("kind"),
        "origin_org_id": body.get("origin_org_id"),
        "estate_id": _optional_id(body, "estate_id", errors),
        "issue_id": _optional_id(body, "issue_id", errors),
    }
    if not isinstance(data["kind"], str) or data["kind"] not in KINDS:
        errors["kind"] = _("Choose the kind of task.")
    if data["origin_org_id"] is None:
        errors["origin_org_id"] = _("This field is required.")
    elif not is_whole(data["origin_org_id"]):
        errors["origin_org_id"] = _("Must be a whole number.")
    if errors:
        raise invalid(errors)
    return data


def _figure(value) -> bool:
    return is_whole(value) or isinstance(value, str)


def _transition_data(body: dict) -> tuple[str, int, dict[str, Any]]:
    """trigger, expected version and the data the transition takes: a reason, and for
    "complete" the households reached and the consents per stairwell unit."""
    errors: dict[str, str] = {}
    trigger, version = trigger_and_version(body, WORKFLOW, errors)
    data: dict[str, Any] = {}
    for key, value in body.items():
        if key in ("trigger", "version") or value is None:
            continue
        if key == "reason":
            data[key] = text_field(body, key, errors, limit=REASON_MAX)
        elif key == "reached":
            if not _figure(value):
                errors[key] = _("Must be a whole number.")
            data[key] = value
        elif key == "consents":
            if not isinstance(value, dict) or not all(_figure(v) for v in value.values()):
                errors[key] = _("Give the consents as {\"stairwell unit id\": count, ...}.")
            data[key] = value
        else:
            errors[key] = _("Unknown field.")
    if errors:
        raise invalid(errors)
    return trigger, version, data


# --- output ---------------------------------------------------------------------


def _person(person) -> dict | None:
    return None if person is None else {"id": person.id, "name": person.name}


def _counts(counts: services.Counts) -> dict[str, int]:
    return {
        "total": counts.total, "sent": counts.sent, "acknowledged": counts.acknowledged,
        "reported": counts.reported, "cancelled": counts.cancelled, "overdue": counts.overdue,
        "percent": counts.percent,
    }


def _state_label(name: str | None) -> str | None:
    label = WORKFLOW.state_label(name)
    return None if label is None else str(label)


def dispatch_summary(dispatch: Dispatch, status: str, counts: services.Counts) -> dict[str, Any]:
    cancellation = None
    if dispatch.is_cancelled:
        cancellation = {"at": iso_utc(dispatch.cancelled_at), "by": _person(dispatch.cancelled_by),
                        "reason": dispatch.cancel_reason}
    return {
        "id": dispatch.id,
        "title": dispatch.title,
        "kind": dispatch.kind,
        "kind_label": dispatch.kind_label,
        "status": status,
        "status_label": str(STATUS_LABELS[status]),
        "origin_org": org_json(dispatch.origin_org),
        "launched_by": _person(dispatch.launched_by),
        "estate": {"id": dispatch.estate.id, "name": dispatch.estate.name} if dispatch.estate else None,
        "issue_id": dispatch.issue_id,
        "created_at": iso_utc(dispatch.created_at),
        "cancellation": cancellation,
        "counts": _counts(counts),
        "url": url_for("api.get_dispatch", dispatch_id=dispatch.id),
    }


def assignment_summary(assignment: DispatchAssignment, now: datetime) -> dict[str, Any]:
    return {
        "id": assignment.id,
        "dispatch_id": assignment.dispatch_id,
        "org": org_json(assignment.org),
        "parent_id": assignment.parent_id,
        "state": assignment.state,
        "state_label": _state_label(assignment.state),
        "open": assignment.is_open,
        "version": assignment.version,
        "mode": assignment.mode,
        "households": assignment.households,
        "reached": assignment.reached,
        "consents": assignment.consents,
        "due_at": iso_utc(assignment.due_at),
        "overdue": assignment.is_overdue(now),
        "responsible_org": org_json(assignment.responsible_org),
        "escalations": assignment.escalations,
        "reported_at": iso_utc(assignment.reported_at),
        "url": url_for("api.get_dispatch_assignment", dispatch_id=assignment.dispatch_id,
                       assignment_id=assignment.id),
    }


def _transition_option(t: Transition) -> dict[str, Any]:
    return {
        "trigger": t.trigger,
        "label": str(t.label),
        "reason_required": t.reason,
        "fields": list(t.fields),
        "style": t.style or None,
    }


def _figures(dispatch: Dispatch, assignment: DispatchAssignment, actions: list[Transition]) -> dict | None:
    """What the caller records with "complete": the households the node answers for
    and, for consent, its stairwell units with the consents recorded so far."""
    if not any(t.trigger == "complete" for t in actions):
        return None
    lines = unit_lines(assignment.org, dispatch.estate_id)
    recorded = services.recorded_consents(assignment) if dispatch.kind == "consent" else {}
    units = [
        {"unit_id": line.unit_id, "label": line.label, "households": line.households,
         "consents": recorded.get(line.unit_id)}
        for line in lines
    ] if dispatch.kind == "consent" else []
    return {"households": sum(line.households for line in lines), "units": units}


def my_assignment(actor, dispatch: Dispatch, assignment: DispatchAssignment, now: datetime) -> dict[str, Any]:
    actions = services.available(actor, assignment)
    return {
        **assignment_summary(assignment, now),
        "transitions": [_transition_option(t) for t in actions],
        "figures": _figures(dispatch, assignment, actions),
    }


def _branch(branch: services.Branch, now: datetime) -> dict[str, Any]:
    return {
        "assignment": assignment_summary(branch.assignment, now),
        "counts": _counts(branch.counts),
        "households": branch.households,
        "reached": branch.reached,
        "consents": branch.consents,
        "children": [_branch(child, now) for child in branch.children],
    }


def dispatch_detail(actor, dispatch: Dispatch, now: datetime) -> dict[str, Any]:
    tree = services.progress(actor, dispatch, now)
    counts = services.Counts()
    for root in tree:
        counts.add(root.counts)
    body = dispatch_summary(dispatch, services.statuses([dispatch.id])[dispatch.id], counts)
    body.update({
        "body": dispatch.body,
        "progress": [_branch(root, now) for root in tree],
        "units": [
            {"unit_id": u.unit_id, "label": u.label, "households": u.households, "consents": u.consents,
             "percent": u.percent}
            for u in services.consent_by_unit(actor, dispatch)
        ],
        "mine": [my_assignment(actor, dispatch, a, now) for a in services.my_assignments(actor, dispatch)],
    })
    return body


def _page_links(page: int, pages: int) -> dict[str, str | None]:
    args = {key: value for key, value in request.args.items() if key != "page"}

    def link(number: int) -> str:
        return url_for("api.list_dispatches", **args, page=number)

    return {
        "self": link(page),
        "first": link(1),
        "last": link(pages),
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < pages else None,
    }


# --- views ----------------------------------------------------------------------


@api.get("/dispatches")
def list_dispatches() -> Response:
    actor = require_login()
    errors: dict[str, str] = {}
    page = _int_arg("page", 1, 2**31 - 1, errors)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE, errors)
    if errors:
        raise invalid(errors)
    rows, total = services.list_dispatches(actor, page=page, per_page=per_page)
    status = services.statuses([row.dispatch.id for row in rows])
    pages = max(1, math.ceil(total / per_page))
    return jsonify({
        "items": [dispatch_summary(row.dispatch, status[row.dispatch.id], row.counts) for row in rows],
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": pages,
        "links": _page_links(page, pages),
    })


def _api_fields(err: ValidationError) -> ValidationError:
    """The service names fields as the forms do; answer with the names the API takes."""
    fields = {}
    for name, message in (err.details.get("fields") or {}).items():
        if name.startswith("consent-"):
            name = "consents." + name.removeprefix("consent-")
        fields[FORM_FIELDS.get(name, name)] = message
    return ValidationError(err.message, fields=fields)


@api.post("/dispatches")
def launch_dispatch() -> tuple[Response, int, dict[str, str]]:
    actor = require_login()
    try:
        dispatch = services.launch(actor, **_launch_data(json_object()))
    except ValidationError as err:
        raise _api_fields(err) from err
    body = dispatch_detail(actor, services.get_dispatch(actor, dispatch.id), utcnow())
    return jsonify(body), 201, {"Location": url_for("api.get_dispatch", dispatch_id=dispatch.id)}


@api.get("/dispatches/awaiting")
def awaiting_assignments() -> Response:
    actor = require_login()
    errors: dict[str, str] = {}
    limit = _int_arg("limit", 100, MAX_AWAITING, errors)
    if errors:
        raise invalid(errors)
    now = utcnow()
    items = []
    for assignment in services.awaiting(actor, limit=limit):
        dispatch = assignment.dispatch
        items.append({
            **assignment_summary(assignment, now),
            "dispatch": {"id": dispatch.id, "title": dispatch.title, "kind": dispatch.kind,
                         "kind_label": dispatch.kind_label,
                         "url": url_for("api.get_dispatch", dispatch_id=dispatch.id)},
        })
    return jsonify({"items": items, "total": len(items), "limit": limit})


@api.get("/dispatches/<int:dispatch_id>")
def get_dispatch(dispatch_id: int) -> Response:
    actor = require_login()
    return jsonify(dispatch_detail(actor, services.get_dispatch(actor, dispatch_id), utcnow()))


@api.get("/dispatches/<int:dispatch_id>/assignments/<int:assignment_id>")
def get_dispatch_assignment(dispatch_id: int, assignment_id: int) -> Response:
    actor = require_login()
    dispatch = services.get_dispatch(actor, dispatch_id)
    assignment = services.get_visible_assignment(actor, dispatch, assignment_id)
    body = my_assignment(actor, dispatch, assignment, utcnow())
    body["timeline"] = timeline.as_json(assignment)
    return jsonify(body)


@api.post("/dispatches/<int:dispatch_id>/assignments/<int:assignment_id>/transitions")
def fire_dispatch_transition(dispatch_id: int, assignment_id: int) -> Response:
    actor = require_login()
    dispatch = services.get_dispatch(actor, dispatch_id)
    services.get_visible_assignment(actor, dispatch, assignment_id)
    trigger, version, data = _transition_data(json_object())
    try:
        assignment = services.fire_assignment(actor, assignment_id, trigger, version, **data)
    except InvalidTransition as err:
        raise _with_current_version(err, assignment_id) from err
    except ValidationError as err:
        raise _api_fields(err) from err
    return jsonify({
        "id": assignment.id,
        "dispatch_id": assignment.dispatch_id,
        "trigger": trigger,
        "state": assignment.state,
        "state_label": _state_label(assignment.state),
        "version": assignment.version,
        "due_at": iso_utc(assignment.due_at),
        "responsible_org_id": assignment.responsible_org_id,
        "dispatch_status": services.statuses([assignment.dispatch_id])[assignment.dispatch_id],
        "url": url_for("api.get_dispatch_assignment", dispatch_id=assignment.dispatch_id,
                       assignment_id=assignment.id),
    })


def _with_current_version(err: InvalidTransition, assignment_id: int) -> InvalidTransition:
    """Wrong state: say so with the current state and version, like a stale version does."""
    db.session.rollback()
    assignment = db.session.get(DispatchAssignment, assignment_id)
    return InvalidTransition(err.message, version=assignment.version, state=assignment.state)


dispatch_api_spec.describe(kinds=tuple(KINDS), statuses=services.STATUSES, max_per_page=MAX_PER_PAGE,
                           max_awaiting=MAX_AWAITING)
