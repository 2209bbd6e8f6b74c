"""OpenAPI 3.1 description of the plan and campaign API (plans/api.py), registered at import."""
from __future__ import annotations

from typing import Any

from core.api import JSON, document, json_content, ref, schema
from issues.api_spec import ORG, TIME, error_responses
from plans.models import FATES, FUNDING_PARTS, ITEM_STATES

INTEGER = {"type": "integer"}
STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
MONEY = {"type": "string", "pattern": r"^\d{1,12}\.\d{2}$", "description": "exact yuan, two decimals"}
MONEY_IN = {"type": ["string", "number"], "description": "yuan, not negative, at most two decimals (text preferred)"}
ESTATE = {"type": "object", "properties": {"id": INTEGER, "name": STRING}}
VERSION_IN = {"type": ["integer", "null"], "description": "the plan's version last read (409 when stale)"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "PlanSummary": {
        "type": "object",
        "required": ["id", "title", "year", "estate", "state", "url"],
        "properties": {
            "id": INTEGER, "plan_id": INTEGER, "title": STRING, "year": INTEGER, "estate": ESTATE,
            "state": {"type": "string", "enum": ["draft", "published"]}, "state_label": STRING,
            "published_at": TIME, "url": STRING,
        },
    },
    "PlanItem": {
        "type": "object",
        "required": ["id", "title", "state", "progress", "level"],
        "properties": {
            "id": INTEGER, "position": INTEGER, "title": STRING, "category": STRING, "category_label": STRING,
            "state": {"type": "string", "enum": list(ITEM_STATES)}, "state_label": STRING,
            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "deadline": {"type": ["string", "null"], "format": "date"},
            "level": STRING, "level_label": STRING, "budget": {"type": ["string", "null"]}, "note": STRING,
            "issue": {"type": ["object", "null"],
                      "properties": {"id": INTEGER, "state": STRING, "state_label": STRING}},
            "updated_at": TIME,
        },
    },
    "PlanDetail": {
        "allOf": [ref("PlanSummary"), {
            "type": "object",
            "required": ["budget", "items", "bulletins", "notices", "votes"],
            "properties": {
                "summary": STRING, "progress": INTEGER, "overdue_items": INTEGER,
                "budget": {"type": "object", "properties": {
                    "total": MONEY,
                    "parts": {"type": "array", "items": {"type": "object", "properties": {
                        "part": {"type": "string", "enum": list(FUNDING_PARTS)}, "label": STRING, "amount": MONEY,
                        "percent": {"type": "string", "description": "share of the budget, one decimal"}}}},
                }},
                "items": {"type": "array", "items": ref("PlanItem")},
                "bulletins": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"type": "object", "properties": {
                        "id": INTEGER, "title": STRING, "body": STRING, "item_id": {"type": ["integer", "null"]},
                        "posted_at": TIME, "posted_by_org": ORG,
                        "posted_by": {"type": "object", "description": "staff view only"}}}},
                    "total": INTEGER, "page": INTEGER, "pages": INTEGER}},
                "notices": {"type": "array", "items": {"type": "object"}},
                "votes": {"type": "array", "items": {"type": "object", "properties": {
                    "passed": {"type": ["boolean", "null"], "description": "only once the vote has closed"}}}},
                "campaigns": {"type": "array", "items": {"type": "object"}},
                "version": {"type": "integer", "description": "staff view only"},
                "actions": {"type": "array", "items": STRING, "description": "staff view only"},
            },
        }],
    },
    "PlanBudget": {
        "type": "object",
        "required": ["total", "government", "owners", "social"],
        "properties": {"total": MONEY_IN, "government": MONEY_IN, "owners": MONEY_IN, "social": MONEY_IN,
                       "version": VERSION_IN},
        "description": "government + owners + social must equal total exactly (else 422)",
    },
    "PlanItemInput": {
        "type": "object",
        "properties": {
            "title": STRING, "category": STRING, "state": {"type": "string", "enum": list(ITEM_STATES)},
            "progress": {"type": ["integer", "string"]}, "deadline": {"type": ["string", "null"], "format": "date"},
            "level": STRING, "budget": MONEY_IN, "note": STRING, "issue_id": {"type": ["integer", "null"]},
            "version": VERSION_IN,
        },
    },
    "Campaign": {
        "type": "object",
        "required": ["id", "title", "estate", "opens_on", "closes_on", "state", "tally"],
        "properties": {
            "id": INTEGER, "title": STRING, "description": STRING, "estate": ESTATE,
            "opens_on": {"type": "string", "format": "date"}, "closes_on": {"type": "string", "format": "date"},
            "state": {"type": "string", "enum": ["collecting", "closed"]}, "version": INTEGER,
            "tally": {"type": "object", "properties": {
                "total": INTEGER,
                "by_category": {"type": "array", "items": {"type": "object"}},
                "by_subcategory": {"type": "array", "items": {"type": "object"}},
                "by_fate": {"type": "object", "properties": {code: INTEGER for code in FATES}}}},
            "mine": {"type": "array", "description": "the caller's own demands with their fate", "items": {
                "type": "object", "properties": {"issue_id": INTEGER, "title": STRING,
                                                 "fate": {"type": "string", "enum": list(FATES)},
                                                 "fate_label": STRING, "reason": STRING}}},
        },
    },
}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": ref(name)}}}


def _inline(properties: dict, required: list[str] | None = None) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": {"type": "object", "properties": properties,
                                                            "required": required or []}}}}


RECORD = _path("record_id")
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 422)
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("/plans", "get"): {
        "operationId": "listPlans", "tags": ["plans"], "security": [{}, {"bearer": []}, {"session": []}],
        "summary": "Published estate plans (no login needed), and for staff the drafts in their jurisdiction",
        "responses": {"200": json_content("The plans", {"type": "object", "properties": {
            "items": {"type": "array", "items": ref("PlanSummary")}}})},
    },
    ("/plans", "post"): {
        "operationId": "createPlan", "tags": ["plans"],
        "summary": "Start an estate's plan for a year (community or street officer); an existing plan is opened",
        "requestBody": _inline({"estate_id": INTEGER, "year": INTEGER, "title": STRING, "summary": STRING},
                               ["estate_id", "year"]),
        "responses": {"201": json_content("The plan (staff view)", ref("PlanDetail")),
                      **error_responses(400, 401, 403, 404, 422)},
    },
    ("/plans/{record_id}", "get"): {
        "operationId": "getPlan", "tags": ["plans"], "security": [{}, {"bearer": []}, {"session": []}],
        "summary": "A plan: residents' view when published (no login, no personal data); the fuller staff view "
                   "for staff of its estate. Bulletins newest first, one page at a time.",
        "parameters": [RECORD,
                       {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                       {"name": "per_page", "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
        "responses": {"200": json_content("The plan", ref("PlanDetail")), **error_responses(404, 422)},
    },
    ("/plans/{record_id}/budget", "put"): {
        "operationId": "setPlanBudget", "tags": ["plans"],
        "summary": "Set the budget and its funding split (government, owners, social capital)",
        "parameters": [RECORD], "requestBody": _body("PlanBudget"),
        "responses": {"200": json_content("The plan", ref("PlanDetail")), **WRITE_ERRORS},
    },
    ("/plans/{record_id}/items", "post"): {
        "operationId": "addPlanItem", "tags": ["plans"], "summary": "Add an item (title required)",
        "parameters": [RECORD], "requestBody": _body("PlanItemInput"),
        "responses": {"201": json_content("The plan", ref("PlanDetail")), **WRITE_ERRORS},
    },
    ("/plans/{record_id}/items/{item_id}", "patch"): {
        "operationId": "updatePlanItem", "tags": ["plans"], "summary": "Change the fields given of an item",
        "parameters": [RECORD, _path("item_id")], "requestBody": _body("PlanItemInput"),
        "responses": {"200": json_content("The plan", ref("PlanDetail")), **WRITE_ERRORS},
    },
    ("/plans/{record_id}/bulletins", "post"): {
        "operationId": "postPlanBulletin", "tags": ["plans"], "summary": "Post a progress bulletin",
        "parameters": [RECORD],
        "requestBody": _inline({"title": STRING, "body": STRING, "item_id": {"type": ["integer", "null"]}}, ["title"]),
        "responses": {"201": json_content("The plan", ref("PlanDetail")), **WRITE_ERRORS},
    },
    ("/plans/{record_id}/transitions", "post"): {
        "operationId": "firePlanTransition", "tags": ["plans"],
        "summary": "Publish the plan, or take it off the public page (reason required)",
        "parameters": [RECORD],
        "requestBody": _inline({"trigger": {"type": "string", "enum": ["publish", "unpublish"]},
                                "version": VERSION_IN, "reason": STRING}, ["trigger"]),
        "responses": {"200": json_content("The plan", ref("PlanDetail")), **WRITE_ERRORS},
    },
    ("/campaigns", "post"): {
        "operationId": "createCampaign", "tags": ["campaigns"],
        "summary": "Open a demand collection campaign in an estate over a period",
        "requestBody": _inline({"estate_id": INTEGER, "title": STRING, "description": STRING,
                                "opens_on": {"type": "string", "format": "date"},
                                "closes_on": {"type": "string", "format": "date"}},
                               ["estate_id", "title", "opens_on", "closes_on"]),
        "responses": {"201": json_content("The campaign", ref("Campaign")), **error_responses(400, 401, 403, 404, 422)},
    },
    ("/campaigns/{campaign_id}", "get"): {
        "operationId": "getCampaign", "tags": ["campaigns"], "security": [{}, {"bearer": []}, {"session": []}],
        "summary": "A campaign's public tally by category and fate; with a login, the caller's own demands",
        "parameters": [_path("campaign_id")],
        "responses": {"200": json_content("The campaign", ref("Campaign")), **error_responses(404)},
    },
    ("/campaigns/{campaign_id}/demands", "post"): {
        "operationId": "linkCampaignDemand", "tags": ["campaigns"],
        "summary": "Link a demand (issue_id) to the campaign, or every demand raised during it (collect: true)",
        "parameters": [_path("campaign_id")],
        "requestBody": _inline({"issue_id": INTEGER, "collect": {"type": "boolean"}}),
        "responses": {"200": json_content("The campaign", ref("Campaign")), **WRITE_ERRORS},
    },
}

for _name, _spec in SCHEMAS.items():
    schema(_name, _spec)
for (_route, _method), _operation in OPERATIONS.items():
    document(_route, _method, _operation)
