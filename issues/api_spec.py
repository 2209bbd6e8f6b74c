"""OpenAPI 3.1 description of the renovation issue API (issues/api.py).

Kept beside the views as data; registered with core.api.document()/schema() when
workflow.api is imported, and served at /api/v1/openapi.json.
"""
from __future__ import annotations

from typing import Any

from core.api import ERROR, JSON, document, json_content, ref, schema
from rules import categories
from issues.renovation import WORKFLOW

NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": ["string", "null"], "format": "date-time", "description": "UTC, ISO 8601 with Z"}
ORG = {
    "type": ["object", "null"],
    "required": ["id", "name", "level"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "level": {"type": "string"}},
}


def error_responses(*statuses: int) -> dict[str, Any]:
    texts = {
        400: ("Malformed JSON body, or a browser session without the X-CSRFToken header", ERROR),
        401: ("No session and no valid API token", ERROR),
        403: ("Inside the caller's jurisdiction, but the caller's role may not do this", ERROR),
        404: ("Missing, or outside the caller's jurisdiction", ERROR),
        409: ("Wrong state (invalid_transition) or stale version (stale_version); "
              "the body carries the current state and version", ref("Conflict")),
        422: ("Missing or invalid data; `fields` maps each field to its problem", ERROR),
    }
    return {str(status): json_content(texts[status][0], texts[status][1]) for status in statuses}


def _schemas(levels: tuple[str, ...], place_kinds: tuple[str, ...]) -> dict[str, dict]:
    states = list(WORKFLOW.states)
    place = {
        "type": "object",
        "required": ["kind", "id"],
        "properties": {"kind": {"type": "string", "enum": list(place_kinds)}, "id": {"type": "integer"},
                       "label": {"type": "string"}},
    }
    issue = {
        "type": "object",
        "required": ["id", "title", "category", "subcategory", "state", "state_label", "version", "open",
                     "overdue", "place", "url"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "category": {"type": "string", "enum": list(categories.CATEGORIES)},
            "category_label": {"type": "string"},
            "subcategory": {"type": "string"},
            "subcategory_label": {"type": "string"},
            "direction": {"type": "string", "enum": ["demand", "task"]},
            "state": {"type": "string", "enum": states},
            "state_label": {"type": "string"},
            "level": {"type": ["string", "null"], "description": "org level responsible in this state"},
            "open": {"type": "boolean"},
            "overdue": {"type": "boolean"},
            "due_at": TIME,
            "version": {"type": "integer", "description": "send it back with a transition"},
            "estate": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
            "place": place,
            "responsible_org": ORG,
            "created_at": TIME,
            "url": {"type": "string"},
        },
    }
    transition_option = {
        "type": "object",
        "required": ["trigger", "label", "reason_required", "fields"],
        "properties": {
            "trigger": {"type": "string"},
            "label": {"type": "string"},
            "reason_required": {"type": "boolean"},
            "fields": {"type": "array", "items": {"type": "string"}, "description": "other data keys required"},
            "style": NULLABLE_STRING,
        },
    }
    timeline_entry = {
        "type": "object",
        "required": ["seq", "actor", "trigger", "to_state", "time"],
        "properties": {
            "seq": {"type": "integer"},
            "actor": {"type": "object", "properties": {"id": {"type": ["integer", "null"]},
                                                       "name": {"type": "string"}}},
            "org": ORG,
            "role": NULLABLE_STRING,
            "role_label": NULLABLE_STRING,
            "trigger": {"type": "string"},
            "trigger_label": {"type": "string"},
            "from_state": NULLABLE_STRING,
            "from_label": NULLABLE_STRING,
            "to_state": {"type": "string"},
            "to_label": {"type": "string"},
            "reason": {"type": "string"},
            "payload": {"type": "object"},
            "time": TIME,
        },
    }
    detail = {
        "allOf": [
            ref("Issue"),
            {
                "type": "object",
                "required": ["timeline", "transitions"],
                "properties": {
                    "description": {"type": "string"},
                    "public_label": {"type": "string", "description": "the state in plain words for residents"},
                    "public_note": {"type": "string"},
                    "raised_by": {"type": "object", "properties": {"id": {"type": "integer"},
                                                                   "name": {"type": "string"}}},
                    "state_entered_at": TIME,
                    "progress": {"type": "integer"},
                    "location": {"type": "string"},
                    "point": {"oneOf": [POINT, {"type": "null"}]},
                    "satisfaction": {"type": ["integer", "null"]},
                    "plan_id": {"type": ["integer", "null"]},
                    "merged_into_id": {"type": ["integer", "null"]},
                    "resume_state": NULLABLE_STRING,
                    "timeline": {"type": "array", "items": ref("TimelineEntry")},
                    "transitions": {"type": "array", "items": ref("TransitionOption"),
                                    "description": "what the caller may do now"},
                },
            },
        ]
    }
    link = {"type": ["string", "null"]}
    issue_list = {
        "type": "object",
        "required": ["items", "total", "page", "per_page", "pages", "links"],
        "properties": {
            "items": {"type": "array", "items": ref("Issue")},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
            "links": {"type": "object", "properties": {k: link for k in ("self", "first", "last", "prev", "next")}},
        },
    }
    new_issue = {
        "type": "object",
        "required": ["title", "category", "subcategory", "place"],
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "description": {"type": "string", "maxLength": 5000},
            "category": {"type": "string", "enum": list(categories.CATEGORIES)},
            "subcategory": {"type": "string", "description": "a sub-category of the category"},
            "place": {"type": "object", "required": ["kind", "id"],
                      "properties": {"kind": {"type": "string", "enum": list(place_kinds)},
                                     "id": {"type": "integer"}}},
            "location": {"type": "string", "maxLength": 200, "description": "the exact spot in words"},
            "point": POINT,
        },
    }
    transition_request = {
        "type": "object",
        "required": ["trigger", "version"],
        "properties": {
            "trigger": {"type": "string", "enum": WORKFLOW.triggers()},
            "version": {"type": "integer", "description": "the version the caller last read"},
            "reason": {"type": "string"},
        },
        "additionalProperties": {"type": ["string", "integer", "null"],
                                 "description": "data the transition needs (see TransitionOption.fields)"},
    }
    transition_result = {
        "type": "object",
        "required": ["id", "trigger", "state", "version"],
        "properties": {
            "id": {"type": "integer"},
            "trigger": {"type": "string"},
            "state": {"type": "string", "enum": states},
            "state_label": {"type": "string"},
            "version": {"type": "integer"},
            "due_at": TIME,
            "responsible_org_id": {"type": ["integer", "null"]},
            "url": {"type": "string"},
        },
    }
    conflict = {
        "type": "object",
        "required": ["error", "message", "version", "state"],
        "properties": {
            "error": {"type": "string", "enum": ["stale_version", "invalid_transition"]},
            "message": {"type": "string"},
            "version": {"type": "integer", "description": "the current version"},
            "state": {"type": "string", "description": "the current state"},
        },
    }
    return {
        "Issue": issue, "IssueDetail": detail, "IssueList": issue_list, "NewIssue": new_issue,
        "TimelineEntry": timeline_entry, "TransitionOption": transition_option,
        "TransitionRequest": transition_request, "TransitionResult": transition_result, "Conflict": conflict,
    }


def _query(name: str, description: str, value_schema: dict) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": value_schema}


POINT = {"type": "object", "required": ["latitude", "longitude"], "description": "a map point (WGS 84)",
         "properties": {"latitude": {"type": "number", "minimum": -90, "maximum": 90},
                        "longitude": {"type": "number", "minimum": -180, "maximum": 180}}}
ISSUE_ID = {"name": "issue_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _list_operation(levels, queues, max_per_page) -> dict[str, Any]:
    return {
        "operationId": "listIssues",
        "summary": "List issues the caller may see, overdue first, then by deadline",
        "tags": ["issues"],
        "parameters": [
            _query("queue", "mine: awaiting the caller's org nodes; all: the caller's jurisdiction and own "
                   "issues (default); raised: raised by the caller", {"type": "string", "enum": list(queues)}),
            _query("state", "only issues in this state", {"type": "string", "enum": list(WORKFLOW.states)}),
            _query("level", "only issues whose state is the responsibility of this org level",
                   {"type": "string", "enum": list(levels)}),
            _query("category", "renovation category", {"type": "string", "enum": list(categories.CATEGORIES)}),
            _query("overdue", "only open issues past their deadline", {"type": "boolean"}),
            _query("org", "only issues under this org node (its id)", {"type": "integer", "minimum": 1}),
            _query("page", "page number, from 1", {"type": "integer", "minimum": 1, "default": 1}),
            _query("per_page", "items per page", {"type": "integer", "minimum": 1, "maximum": max_per_page,
                                                  "default": 50}),
        ],
        "responses": {"200": json_content("One page of issues", ref("IssueList")), **error_responses(401, 404, 422)},
    }


def _create_operation() -> dict[str, Any]:
    return {
        "operationId": "createIssue",
        "summary": "Raise a demand at a place within the caller's reach",
        "description": "Photos are added through the web form.",
        "tags": ["issues"],
        "requestBody": {"required": True, "content": {JSON: {"schema": ref("NewIssue")}}},
        "responses": {
            "201": {
                **json_content("The new issue", ref("IssueDetail")),
                "headers": {"Location": {"description": "URL of the new issue", "schema": {"type": "string"}}},
            },
            **error_responses(400, 401, 403, 404, 422),
        },
    }


def _get_operation() -> dict[str, Any]:
    return {
        "operationId": "getIssue",
        "summary": "An issue with its timeline and the transitions the caller may fire now",
        "tags": ["issues"],
        "parameters": [ISSUE_ID],
        "responses": {"200": json_content("The issue", ref("IssueDetail")), **error_responses(401, 403, 404)},
    }


def _transition_operation() -> dict[str, Any]:
    return {
        "operationId": "fireTransition",
        "summary": "Fire a workflow transition on an issue",
        "description": "Send the version last read; a stale version answers 409 with the current one.",
        "tags": ["issues"],
        "parameters": [ISSUE_ID],
        "requestBody": {"required": True, "content": {JSON: {"schema": ref("TransitionRequest")}}},
        "responses": {
            "200": json_content("The new state and version", ref("TransitionResult")),
            **error_responses(400, 401, 403, 404, 409, 422),
        },
    }


def describe(*, levels: tuple[str, ...], queues: tuple[str, ...], place_kinds: tuple[str, ...],
             max_per_page: int) -> None:
    for name, spec in _schemas(levels, place_kinds).items():
        schema(name, spec)
    document("/issues", "get", _list_operation(levels, queues, max_per_page))
    document("/issues", "post", _create_operation())
    document("/issues/{issue_id}", "get", _get_operation())
    document("/issues/{issue_id}/transitions", "post", _transition_operation())
