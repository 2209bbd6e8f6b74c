"""JSON API for household claims on the /api/v1 blueprint: the claims waiting for the
caller (grid workers, officers, administrators) and their decision. Thin over
admin.services; 404 outside the caller's jurisdiction, 422 with a `fields` map."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_babel import gettext as _

from admin import services
from admin.models import HouseholdClaim
from core.api import JSON, api, document, invalid, json_content, ref, require_login, schema, text_field
from issues.api import json_object
from issues.api_spec import TIME, error_responses
from workflow.timeline import iso_utc

INTEGER = {"type": "integer"}


def claim_json(claim: HouseholdClaim) -> dict[str, Any]:
    return {
        "id": claim.id,
        "household": {"id": claim.household_id, "label": claim.household.label},
        "person": {"id": claim.person_id, "name": claim.person.name, "phone": claim.person.phone},
        "owner_phone": claim.owner_phone,
        "status": claim.status,
        "reason": claim.reason,
        "created_at": iso_utc(claim.created_at),
    }


@api.get("/admin/claims")
def list_claims() -> Response:
    actor = require_login()
    return jsonify({"items": [claim_json(claim) for claim in services.pending_claims(actor)]})


@api.post("/admin/claims/<int:claim_id>/decision")
def decide_claim(claim_id: int) -> Response:
    actor = require_login()
    body = json_object()
    errors: dict[str, str] = {}
    decision = body.get("decision")
    if decision not in ("approve", "reject"):
        errors["decision"] = _("Choose approve or reject.")
    reason = text_field(body, "reason", errors, limit=2000)
    if errors:
        raise invalid(errors)
    services.decide_claim(actor, claim_id, decision == "approve", reason)
    claim = services.load(actor, HouseholdClaim, claim_id, services.CLAIMS)
    return jsonify(claim_json(claim))


CLAIM = {
    "type": "object",
    "required": ["id", "household", "person", "owner_phone", "status", "reason", "created_at"],
    "properties": {
        "id": INTEGER,
        "household": {"type": "object", "properties": {"id": INTEGER, "label": {"type": "string"}}},
        "person": {"type": "object", "properties": {"id": INTEGER, "name": {"type": "string"},
                                                   "phone": {"type": ["string", "null"]}}},
        "owner_phone": {"type": "string", "description": "the owner's mobile the resident gave"},
        "status": {"type": "string", "enum": ["pending", "approved", "rejected"]},
        "reason": {"type": "string"},
        "created_at": TIME,
    },
}
schema("HouseholdClaim", CLAIM)
document("/admin/claims", "get", {
    "summary": "Household claims waiting for the caller's decision",
    "description": "Claims whose owner's mobile did not match the roster, in the caller's subtree "
                   "(grid workers, officers, administrators); empty for anyone else.",
    "tags": ["admin"],
    "responses": {
        "200": json_content("The waiting claims, oldest first (at most 200)",
                            {"type": "object", "properties": {"items": {"type": "array",
                                                                        "items": ref("HouseholdClaim")}}}),
        **error_responses(401),
    },
})
document("/admin/claims/{claim_id}/decision", "post", {
    "summary": "Approve or reject a household claim",
    "description": "Approving links the resident to the household; rejecting needs a reason the resident reads.",
    "tags": ["admin"],
    "parameters": [{"name": "claim_id", "in": "path", "required": True, "schema": INTEGER}],
    "requestBody": {"required": True, "content": {JSON: {"schema": {
        "type": "object", "required": ["decision"],
        "properties": {"decision": {"type": "string", "enum": ["approve", "reject"]},
                       "reason": {"type": "string", "maxLength": 2000}},
    }}}},
    "responses": {
        "200": json_content("The claim as decided", ref("HouseholdClaim")),
        **error_responses(400, 401, 403, 404, 422),
    },
})
