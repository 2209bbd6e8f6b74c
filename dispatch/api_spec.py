"""OpenAPI 3.1 description of the dispatch API (dispatch/api.py).

Kept beside the views as data and registered with core.api.document()/schema() when
workflow.dispatch_api is imported. Timeline entries, transition options and the 409
body have the same shape as the issue API's (issues/api_spec.py), whose schemas
are reused by name.
"""
from __future__ import annotations

from typing import Any

from core.api import JSON, document, json_content, ref, schema
from issues.api_spec import ORG, TIME, error_responses
from dispatch.models import WORKFLOW

INTEGER = {"type": "integer"}
NULLABLE_INTEGER = {"type": ["integer", "null"]}
PERSON = {
    "type": ["object", "null"],
    "required": ["id", "name"],
    "properties": {"id": INTEGER, "name": {"type": "string"}},
}
FIGURE = {"type": ["integer", "string"], "description": "a whole number (text is accepted, as a form sends it)"}


def _counts() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "assignments the caller can see, by stage",
        "required": ["total", "sent", "acknowledged", "reported", "cancelled", "overdue", "percent"],
        "properties": {
            "total": INTEGER,
            "sent": {"type": "integer", "description": "not yet acknowledged"},
            "acknowledged": {"type": "integer", "description": "acknowledged and in hand (working, passed on, done)"},
            "reported": INTEGER,
            "cancelled": INTEGER,
            "overdue": INTEGER,
            "percent": {"type": "integer", "description": "share reported, 0-100"},
        },
    }


def _dispatch(kinds: tuple[str, ...], statuses: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", "title", "kind", "status", "origin_org", "counts", "url"],
        "properties": {
            "id": INTEGER,
            "title": {"type": "string"},
            "kind": {"type": "string", "enum": list(kinds)},
            "kind_label": {"type": "string"},
            "status": {"type": "string", "enum": list(statuses),
                       "description": "reported: the launching org unit has reported (finished)"},
            "status_label": {"type": "string"},
            "origin_org": ORG,
            "launched_by": PERSON,
            "estate": {"type": ["object", "null"], "properties": {"id": INTEGER, "name": {"type": "string"}}},
            "issue_id": NULLABLE_INTEGER,
            "created_at": TIME,
            "cancellation": {
                "type": ["object", "null"],
                "description": "when, by whom and why the launching org unit cancelled the task",
                "properties": {"at": TIME, "by": PERSON, "reason": {"type": "string"}},
            },
            "counts": ref("DispatchCounts"),
            "url": {"type": "string"},
        },
    }


def _assignment() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", "dispatch_id", "org", "state", "version", "open", "url"],
        "properties": {
            "id": INTEGER,
            "dispatch_id": INTEGER,
            "org": ORG,
            "parent_id": NULLABLE_INTEGER,
            "state": {"type": "string", "enum": list(WORKFLOW.states)},
            "state_label": {"type": "string"},
            "open": {"type": "boolean"},
            "version": {"type": "integer", "description": "send it back with a transition"},
            "mode": {"type": ["string", "null"], "enum": ["forwarded", "completed", None]},
            "households": NULLABLE_INTEGER,
            "reached": NULLABLE_INTEGER,
            "consents": NULLABLE_INTEGER,
            "due_at": TIME,
            "overdue": {"type": "boolean"},
            "responsible_org": ORG,
            "escalations": INTEGER,
            "reported_at": TIME,
            "url": {"type": "string"},
        },
    }


def _my_assignment() -> dict[str, Any]:
    unit = {
        "type": "object",
        "required": ["unit_id", "label", "households"],
        "properties": {"unit_id": INTEGER, "label": {"type": "string"}, "households": INTEGER,
                       "consents": {**NULLABLE_INTEGER, "description": "recorded so far"}},
    }
    return {
        "allOf": [
            ref("DispatchAssignment"),
            {
                "type": "object",
                "required": ["transitions"],
                "properties": {
                    "transitions": {"type": "array", "items": ref("TransitionOption"),
                                    "description": "what the caller may do now"},
                    "figures": {
                        "type": ["object", "null"],
                        "description": "when the caller may record figures (complete): the households the "
                                       "org unit answers for and, for consent, its stairwell units",
                        "properties": {"households": INTEGER, "units": {"type": "array", "items": unit}},
                    },
                    "timeline": {"type": "array", "items": ref("TimelineEntry"),
                                 "description": "only when one assignment is read"},
                },
            },
        ]
    }


def _branch() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "an assignment with the totals of its branch (itself and everything below it)",
        "required": ["assignment", "counts", "households", "reached", "consents", "children"],
        "properties": {
            "assignment": ref("DispatchAssignment"),
            "counts": ref("DispatchCounts"),
            "households": {"type": "integer", "description": "households the org unit answers for in scope"},
            "reached": INTEGER,
            "consents": INTEGER,
            "children": {"type": "array", "items": ref("DispatchBranch")},
        },
    }


def _detail() -> dict[str, Any]:
    unit = {
        "type": "object",
        "required": ["unit_id", "label", "households", "consents", "percent"],
        "properties": {"unit_id": INTEGER, "label": {"type": "string"}, "households": INTEGER,
                       "consents": INTEGER, "percent": INTEGER},
    }
    return {
        "allOf": [
            ref("Dispatch"),
            {
                "type": "object",
                "required": ["body", "progress", "units", "mine"],
                "properties": {
                    "body": {"type": "string"},
                    "progress": {"type": "array", "items": ref("DispatchBranch"),
                                 "description": "the progress tree as far as the caller's jurisdiction reaches"},
                    "units": {"type": "array", "items": unit,
                              "description": "consent tasks: every stairwell unit of the estate in the caller's "
                                             "jurisdiction with the consents reported; empty for other kinds"},
                    "mine": {"type": "array", "items": ref("MyDispatchAssignment"),
                             "description": "the assignments of the caller's own org units"},
                },
            },
        ]
    }


def _schemas(kinds: tuple[str, ...], statuses: tuple[str, ...], max_per_page: int) -> dict[str, dict]:
    link = {"type": ["string", "null"]}
    dispatch_list = {
        "type": "object",
        "required": ["items", "total", "page", "per_page", "pages", "links"],
        "properties": {
            "items": {"type": "array", "items": ref("Dispatch")},
            "total": INTEGER,
            "page": INTEGER,
            "per_page": {"type": "integer", "maximum": max_per_page},
            "pages": INTEGER,
            "links": {"type": "object", "properties": {k: link for k in ("self", "first", "last", "prev", "next")}},
        },
    }
    new_dispatch = {
        "type": "object",
        "required": ["title", "kind", "origin_org_id"],
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "body": {"type": "string", "maxLength": 5000, "description": "what is to be done"},
            "kind": {"type": "string", "enum": list(kinds)},
            "origin_org_id": {"type": "integer", "description": "the org unit the caller launches it for"},
            "estate_id": {**NULLABLE_INTEGER, "description": "limit the task to one estate (required for consent)"},
            "issue_id": {**NULLABLE_INTEGER, "description": "the renovation issue it belongs to"},
        },
    }
    awaiting = {
        "type": "object",
        "required": ["items", "total", "limit"],
        "properties": {
            "items": {"type": "array", "items": {"allOf": [
                ref("DispatchAssignment"),
                {"type": "object", "required": ["dispatch"], "properties": {"dispatch": {
                    "type": "object",
                    "properties": {"id": INTEGER, "title": {"type": "string"}, "kind": {"type": "string"},
                                   "kind_label": {"type": "string"}, "url": {"type": "string"}},
                }}},
            ]}},
            "total": INTEGER,
            "limit": INTEGER,
        },
    }
    transition_request = {
        "type": "object",
        "required": ["trigger", "version"],
        "properties": {
            "trigger": {"type": "string", "enum": WORKFLOW.triggers()},
            "version": {"type": "integer", "description": "the assignment's version the caller last read"},
            "reason": {"type": "string", "maxLength": 2000,
                       "description": "required to cancel; an optional note otherwise"},
            "reached": {**FIGURE, "description": "complete: households reached"},
            "consents": {"type": "object", "additionalProperties": FIGURE,
                         "description": "complete, consent tasks: consents per stairwell unit id, every unit "
                                        "the org unit answers for"},
        },
        "additionalProperties": False,
    }
    transition_result = {
        "type": "object",
        "required": ["id", "dispatch_id", "trigger", "state", "version", "dispatch_status"],
        "properties": {
            "id": INTEGER,
            "dispatch_id": INTEGER,
            "trigger": {"type": "string"},
            "state": {"type": "string", "enum": list(WORKFLOW.states)},
            "state_label": {"type": "string"},
            "version": INTEGER,
            "due_at": TIME,
            "responsible_org_id": NULLABLE_INTEGER,
            "dispatch_status": {"type": "string", "enum": list(statuses)},
            "url": {"type": "string"},
        },
    }
    return {
        "Dispatch": _dispatch(kinds, statuses), "DispatchCounts": _counts(), "DispatchDetail": _detail(),
        "DispatchList": dispatch_list, "NewDispatch": new_dispatch, "DispatchAssignment": _assignment(),
        "MyDispatchAssignment": _my_assignment(), "DispatchBranch": _branch(), "AwaitingAssignments": awaiting,
        "DispatchTransitionRequest": transition_request, "DispatchTransitionResult": transition_result,
    }


def _query(name: str, description: str, value_schema: dict) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": value_schema}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _operations(max_per_page: int, max_awaiting: int) -> dict[tuple[str, str], dict[str, Any]]:
    dispatch_id, assignment_id = _path("dispatch_id"), _path("assignment_id")
    return {
        ("/dispatches", "get"): {
            "operationId": "listDispatches",
            "summary": "Tasks sent down that the caller may see, newest first, with the counts of the "
                       "assignments in the caller's jurisdiction",
            "tags": ["dispatches"],
            "parameters": [
                _query("page", "page number, from 1", {"type": "integer", "minimum": 1, "default": 1}),
                _query("per_page", "items per page", {"type": "integer", "minimum": 1, "maximum": max_per_page,
                                                      "default": 30}),
            ],
            "responses": {"200": json_content("One page of tasks", ref("DispatchList")), **error_responses(401, 422)},
        },
        ("/dispatches", "post"): {
            "operationId": "launchDispatch",
            "summary": "Launch a task from an org unit the caller acts for (street or community officer) "
                       "and send it to the org units below it in scope",
            "tags": ["dispatches"],
            "requestBody": {"required": True, "content": {JSON: {"schema": ref("NewDispatch")}}},
            "responses": {
                "201": {
                    **json_content("The new task", ref("DispatchDetail")),
                    "headers": {"Location": {"description": "URL of the new task", "schema": {"type": "string"}}},
                },
                **error_responses(400, 401, 403, 404, 422),
            },
        },
        ("/dispatches/awaiting", "get"): {
            "operationId": "awaitingAssignments",
            "summary": "Open assignments awaiting the caller's org units (their own, or referred to them "
                       "after a deadline passed), soonest deadline first",
            "tags": ["dispatches"],
            "parameters": [_query("limit", "at most this many", {"type": "integer", "minimum": 1,
                                                                 "maximum": max_awaiting, "default": 100})],
            "responses": {"200": json_content("The worklist", ref("AwaitingAssignments")), **error_responses(401, 422)},
        },
        ("/dispatches/{dispatch_id}", "get"): {
            "operationId": "getDispatch",
            "summary": "A task with its progress tree per branch, consent per stairwell unit (consent tasks) "
                       "and the caller's own assignments with what the caller may do now",
            "tags": ["dispatches"],
            "parameters": [dispatch_id],
            "responses": {"200": json_content("The task", ref("DispatchDetail")), **error_responses(401, 404)},
        },
        ("/dispatches/{dispatch_id}/assignments/{assignment_id}", "get"): {
            "operationId": "getDispatchAssignment",
            "summary": "One assignment in the caller's jurisdiction with its timeline",
            "tags": ["dispatches"],
            "parameters": [dispatch_id, assignment_id],
            "responses": {"200": json_content("The assignment", ref("MyDispatchAssignment")), **error_responses(401, 404)},
        },
        ("/dispatches/{dispatch_id}/assignments/{assignment_id}/transitions", "post"): {
            "operationId": "fireDispatchTransition",
            "summary": "Acknowledge, pass on, record the figures, report up, or cancel the whole task",
            "description": "Send the assignment's version last read; a stale version answers 409 with the "
                           "current one. `cancel` is fired, with a reason, on the launching org unit's own "
                           "assignment by that org unit's officers: every open assignment is revoked in one "
                           "transaction, and the task is marked cancelled.",
            "tags": ["dispatches"],
            "parameters": [dispatch_id, assignment_id],
            "requestBody": {"required": True, "content": {JSON: {"schema": ref("DispatchTransitionRequest")}}},
            "responses": {
                "200": json_content("The assignment's new state and version", ref("DispatchTransitionResult")),
                **error_responses(400, 401, 403, 404, 409, 422),
            },
        },
    }


def describe(*, kinds: tuple[str, ...], statuses: tuple[str, ...], max_per_page: int, max_awaiting: int) -> None:
    for name, spec in _schemas(kinds, statuses, max_per_page).items():
        schema(name, spec)
    for (path, method), spec in _operations(max_per_page, max_awaiting).items():
        document(path, method, spec)
