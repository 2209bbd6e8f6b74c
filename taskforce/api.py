"""JSON API of the standing task force on /api/v1 (thin over taskforce.services), described
for /api/v1/openapi.json below: 404 outside the caller's jurisdiction, 403 inside it but
not allowed, 409 wrong state or stale version, 422 invalid data with `fields`."""
from __future__ import annotations

from datetime import datetime

from flask import jsonify, url_for
from flask_babel import gettext as _

from core.api import JSON, api, document, invalid, is_whole, json_content, ref, require_login, schema, text_field
from core.db import utcnow
from core.errors import InvalidTransition, StaleVersion
from issues.api import json_object
from issues.api_spec import TIME, error_responses
from workflow.timeline import as_json, iso_utc
from taskforce import services
from taskforce.models import ACTION_KINDS, MEETING_WORKFLOW, PARTIES, TaskForceMeeting, TaskForce

TRIGGERS = ("hold", "draft", "approve", "sign", "cancel")


def task_force_json(task_force: TaskForce, full: bool = False) -> dict:
    body = {
        "id": task_force.id, "name": task_force.name,
        "estate": {"id": task_force.estate_id, "name": task_force.estate.name},
        "convener_org": {"id": task_force.convener_org_id, "name": task_force.convener_org.name},
        "members": [{"id": m.id, "person": {"id": m.person_id, "name": m.person.name}, "party": m.party,
                     "party_label": m.party_label, "duty": m.duty} for m in task_force.active_members],
        "url": url_for("taskforce.task_force_page", task_force_id=task_force.id),
    }
    if full:
        now = utcnow()
        body["meetings"] = [meeting_json(m, now) for m in services.meetings_of(task_force)]
        body["calendar_url"] = url_for("taskforce.feed", token=task_force.feed_token, _external=True)
    return body


def meeting_json(meeting: TaskForceMeeting, now: datetime | None = None, full: bool = False) -> dict:
    document = services.minutes_document(meeting)
    body = {
        "id": meeting.id, "task_force_id": meeting.task_force_id, "title": meeting.title,
        "state": meeting.state, "state_label": str(MEETING_WORKFLOW.state_label(meeting.state)),
        "version": meeting.version, "starts_at": iso_utc(meeting.starts_at), "ends_at": iso_utc(meeting.ends_at),
        "location": meeting.location, "series_id": meeting.series_id,
        "minutes_missing": meeting.minutes_missing(now),
        "minutes_pdf": url_for("taskforce.minutes_pdf", meeting_id=meeting.id) if document else None,
        "minutes_sha256": document.sha256 if document else None,
    }
    if full:
        body.update({
            "minutes": meeting.minutes, "decisions": meeting.decisions,
            "attendance": [{"member_id": r.member_id, "name": r.member.person.name, "party": r.member.party,
                            "present": r.present, "approved_at": iso_utc(r.approved_at)} for r in meeting.attendance],
            "action_items": [{"id": i.id, "title": i.title, "kind": i.kind, "due_on": i.due_on.isoformat(),
                              "issue_id": i.issue_id, "dispatch_id": i.dispatch_id} for i in meeting.action_items],
            "timeline": as_json(meeting),
        })
    return body


@api.route("/taskforces")
def taskforce_list():
    actor = require_login()
    return jsonify({"task_forces": [task_force_json(t) for t in services.visible_task_forces(actor)]})


@api.route("/taskforces", methods=["POST"])
def taskforce_set_up():
    actor = require_login()
    body = json_object()
    errors: dict = {}
    estate_id = _whole(body, "estate_id", errors)
    if estate_id is None and "estate_id" not in errors:
        errors["estate_id"] = _("This field is required.")
    name = text_field(body, "name", errors, limit=200)
    if errors:
        raise invalid(errors)
    return jsonify(task_force_json(services.set_up(actor, estate_id, name), full=True)), 201


@api.route("/taskforces/<int:task_force_id>/members", methods=["POST"])
def taskforce_add_member(task_force_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    person_id = _whole(body, "person_id", errors)
    if person_id is None and "person_id" not in errors:
        errors["person_id"] = _("This field is required.")
    party = text_field(body, "party", errors, required=True)
    duty = text_field(body, "duty", errors, limit=120)
    if errors:
        raise invalid(errors)
    services.get_task_force(actor, task_force_id)
    services.add_member(actor, task_force_id, person_id=person_id, party=party, duty=duty)
    return jsonify(task_force_json(services.get_task_force(actor, task_force_id), full=True)), 201


@api.route("/taskforces/<int:task_force_id>")
def taskforce_get(task_force_id: int):
    actor = require_login()
    return jsonify(task_force_json(services.get_task_force(actor, task_force_id), full=True))


def _whole(body: dict, name: str, errors: dict, default: int | None = None) -> int | None:
    value = body.get(name, default)
    if value is None:
        return None
    if not is_whole(value):
        errors[name] = _("Must be a whole number.")
        return None
    return value


@api.route("/taskforces/<int:task_force_id>/meetings", methods=["POST"])
def taskforce_schedule(task_force_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    title = text_field(body, "title", errors, limit=200, required=True)
    raw = text_field(body, "starts_at", errors, required=True)
    starts = None
    if raw and "starts_at" not in errors:
        try:
            starts = datetime.fromisoformat(raw.strip())
        except ValueError:
            errors["starts_at"] = _("Give a date and time.")
    minutes_long = _whole(body, "minutes_long", errors, 90)
    every_days = _whole(body, "every_days", errors, 0)
    count = _whole(body, "count", errors, 1)
    location = text_field(body, "location", errors, limit=200)
    if errors:
        raise invalid(errors)
    services.get_task_force(actor, task_force_id)
    meetings = services.schedule_meetings(actor, task_force_id, services.Schedule(
        title=title, starts_at=starts, minutes_long=minutes_long, location=location, every_days=every_days,
        count=count))
    now = utcnow()
    return jsonify({"meetings": [meeting_json(m, now) for m in meetings]}), 201


@api.route("/taskforce-meetings/<int:meeting_id>")
def taskforce_meeting_get(meeting_id: int):
    actor = require_login()
    return jsonify(meeting_json(services.get_meeting(actor, meeting_id), full=True))


@api.route("/taskforce-meetings/<int:meeting_id>/transitions", methods=["POST"])
def taskforce_meeting_fire(meeting_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    trigger = body.get("trigger")
    if trigger not in TRIGGERS:
        errors["trigger"] = _("Unknown action: %(trigger)s.", trigger=str(trigger)[:40])
    version = _whole(body, "version", errors)
    if version is None and "version" not in errors:
        errors["version"] = _("This field is required.")
    present = body.get("present", [])
    if not isinstance(present, list) or not all(is_whole(i) for i in present):
        errors["present"] = _("A list of member ids.")
    data = {"reason": text_field(body, "reason", errors, limit=2000),
            "minutes": text_field(body, "minutes", errors, limit=20000),
            "decisions": text_field(body, "decisions", errors, limit=10000)}
    if errors:
        raise invalid(errors)
    if trigger == "hold":
        data["present"] = present
    services.get_meeting(actor, meeting_id)
    try:
        meeting = services.fire_meeting(actor, meeting_id, trigger, version, **data)
    except (InvalidTransition, StaleVersion) as err:
        current = services.get_meeting(actor, meeting_id)
        err.details.setdefault("state", current.state)
        err.details.setdefault("version", current.version)
        raise
    return jsonify(meeting_json(meeting, full=True))


@api.route("/taskforce-meetings/<int:meeting_id>/action-items", methods=["POST"])
def taskforce_action_item(meeting_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    title = text_field(body, "title", errors, limit=200, required=True)
    description = text_field(body, "description", errors, limit=5000)
    kind = text_field(body, "kind", errors, required=True)
    due_on = text_field(body, "due_on", errors, required=True)
    category = text_field(body, "category", errors) or "basic"
    subcategory = text_field(body, "subcategory", errors)
    if errors:
        raise invalid(errors)
    services.get_meeting(actor, meeting_id)
    item = services.add_action_item(actor, meeting_id, title=title, description=description, kind=kind,
                                    due_on=due_on, category=category, subcategory=subcategory)
    return jsonify({"id": item.id, "title": item.title, "kind": item.kind, "due_on": item.due_on.isoformat(),
                    "issue_id": item.issue_id, "dispatch_id": item.dispatch_id}), 201


# --- OpenAPI ----------------------------------------------------------------------------

INTEGER = {"type": "integer"}
TEXT = {"type": "string"}


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}


def describe() -> None:
    schema("TaskForce", {
        "type": "object", "required": ["id", "name", "estate", "members"],
        "properties": {"id": INTEGER, "name": TEXT, "estate": {"type": "object"}, "convener_org": {"type": "object"},
                       "members": {"type": "array", "items": {"type": "object", "properties": {
                           "id": INTEGER, "party": {"type": "string", "enum": list(PARTIES)}, "duty": TEXT}}},
                       "meetings": {"type": "array", "items": ref("TaskForceMeeting")},
                       "calendar_url": {"type": "string", "description": "iCalendar feed of the meetings"}},
    })
    schema("TaskForceMeeting", {
        "type": "object", "required": ["id", "title", "state", "version", "starts_at"],
        "properties": {"id": INTEGER, "title": TEXT, "state": {"type": "string", "enum": list(MEETING_WORKFLOW.states)},
                       "version": INTEGER, "starts_at": TIME, "ends_at": TIME, "location": TEXT,
                       "minutes_missing": {"type": "boolean", "description": "in the past and no minutes yet"},
                       "minutes_pdf": {"type": ["string", "null"]}, "minutes": TEXT, "decisions": TEXT,
                       "attendance": {"type": "array"}, "action_items": {"type": "array"},
                       "timeline": {"type": "array"}},
    })
    tag = ["taskforces"]
    document("/taskforces", "get", {
        "operationId": "listTaskForces",
        "summary": "Task forces in the caller's jurisdiction or of which the caller is a member",
        "tags": tag, "responses": {"200": json_content("Task forces", {"type": "object"}), **error_responses(401)}})
    document("/taskforces", "post", {
        "operationId": "setUpTaskForce", "summary": "Set up an estate's standing task force (one per estate)",
        "tags": tag, "requestBody": {"required": True, "content": {JSON: {"schema": {
            "type": "object", "required": ["estate_id"], "properties": {"estate_id": INTEGER, "name": TEXT}}}}},
        "responses": {"201": json_content("The task force", ref("TaskForce")),
                      **error_responses(400, 401, 403, 404, 409, 422)}})
    document("/taskforces/{task_force_id}/members", "post", {
        "operationId": "addTaskForceMember", "summary": "Add a person as a member for a party", "tags": tag,
        "parameters": [_path_id("task_force_id")],
        "requestBody": {"required": True, "content": {JSON: {"schema": {
            "type": "object", "required": ["person_id", "party"],
            "properties": {"person_id": INTEGER, "party": {"type": "string", "enum": list(PARTIES)},
                           "duty": TEXT}}}}},
        "responses": {"201": json_content("The task force", ref("TaskForce")),
                      **error_responses(400, 401, 403, 404, 422)}})
    document("/taskforces/{task_force_id}", "get", {
        "operationId": "getTaskForce", "summary": "A task force with its members and meetings", "tags": tag,
        "parameters": [_path_id("task_force_id")],
        "responses": {"200": json_content("The task force", ref("TaskForce")), **error_responses(401, 404)}})
    document("/taskforces/{task_force_id}/meetings", "post", {
        "operationId": "scheduleTaskForceMeetings",
        "summary": "Schedule a meeting or a recurring series (every 7, 14 or 28 days); never in the past",
        "tags": tag, "parameters": [_path_id("task_force_id")],
        "requestBody": {"required": True, "content": {JSON: {"schema": {
            "type": "object", "required": ["title", "starts_at"],
            "properties": {"title": TEXT, "starts_at": {"type": "string", "description": "local time, ISO 8601"},
                           "minutes_long": INTEGER, "location": TEXT,
                           "every_days": {"type": "integer", "enum": [0, 7, 14, 28]},
                           "count": {"type": "integer", "minimum": 1, "maximum": services.MAX_SERIES}}}}}},
        "responses": {"201": json_content("The meetings scheduled", {"type": "object"}),
                      **error_responses(400, 401, 403, 404, 422)}})
    document("/taskforce-meetings/{meeting_id}", "get", {
        "operationId": "getTaskForceMeeting",
        "summary": "A meeting with attendance, minutes, action items and timeline",
        "tags": tag, "parameters": [_path_id("meeting_id")],
        "responses": {"200": json_content("The meeting", ref("TaskForceMeeting")), **error_responses(401, 404)}})
    document("/taskforce-meetings/{meeting_id}/transitions", "post", {
        "operationId": "fireTaskForceMeeting",
        "summary": "Record attendance (hold, with present member ids), save the minutes (draft), approve them "
                   "(each member present), sign them (a signed PDF; a second signing answers 409), or cancel",
        "tags": tag, "parameters": [_path_id("meeting_id")],
        "requestBody": {"required": True, "content": {JSON: {"schema": {
            "type": "object", "required": ["trigger", "version"],
            "properties": {"trigger": {"type": "string", "enum": list(TRIGGERS)}, "version": INTEGER,
                           "present": {"type": "array", "items": INTEGER}, "minutes": TEXT, "decisions": TEXT,
                           "reason": TEXT}}}}},
        "responses": {"200": json_content("The meeting", ref("TaskForceMeeting")),
                      **error_responses(400, 401, 403, 404, 409, 422)}})
    document("/taskforce-meetings/{meeting_id}/action-items", "post", {
        "operationId": "addTaskForceActionItem",
        "summary": "An action item that becomes, in the same step, a renovation issue of the estate plan or a task "
                   "sent down the levels, with its deadline",
        "tags": tag, "parameters": [_path_id("meeting_id")],
        "requestBody": {"required": True, "content": {JSON: {"schema": {
            "type": "object", "required": ["title", "kind", "due_on"],
            "properties": {"title": TEXT, "description": TEXT, "kind": {"type": "string", "enum": list(ACTION_KINDS)},
                           "due_on": {"type": "string", "format": "date"}, "category": TEXT, "subcategory": TEXT}}}}},
        "responses": {"201": json_content("The action item", {"type": "object"}),
                      **error_responses(400, 401, 403, 404, 409, 422)}})


describe()
