"""OpenAPI 3.1 description of the vote, notice and consultation API (procedures/api.py),
registered with core.api.document()/schema() and served at /api/v1/openapi.json."""
from __future__ import annotations

from typing import Any

from core.api import ERROR, JSON, document, json_content, ref, schema
from procedures import consultation, voting

TIME = {"type": ["string", "null"], "format": "date-time", "description": "UTC, ISO 8601 with Z"}
TEXT_OR_NULL = {"type": ["string", "null"]}
FRACTION = {"type": ["string", "null"], "description": "exact fraction such as \"2/3\"; null when 0/0"}
ERROR_TEXTS = {
    400: "Malformed JSON body, or a browser session without the X-CSRFToken header",
    401: "No session and no valid API token",
    403: "Inside the caller's jurisdiction, but not allowed (e.g. not in the vote's electorate)",
    404: "Missing, or outside the caller's jurisdiction",
    409: "Wrong state (e.g. the vote is closed, or its result is not published yet) or stale version",
    422: "Missing or invalid data (a field sent twice, an unknown choice); `fields` maps each field to its problem",
}


def _op(summary: str, ok: tuple[int, str, dict], errors: tuple[int, ...], *, body: dict | None = None,
        params: tuple[str, ...] = (), tag: str = "votes") -> dict[str, Any]:
    status, description, ok_schema = ok
    spec: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
                       for name in params],
        "responses": {str(status): json_content(description, ok_schema),
                      **{str(code): json_content(ERROR_TEXTS[code], ERROR) for code in (401, *errors)}},
    }
    if body is not None:
        spec["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    return spec


def _obj(required_fields: list[str], /, **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required_fields, "properties": properties}


def _schemas() -> None:
    schema("Vote", _obj(
        ["id", "title", "state", "version", "target", "rule", "scope", "electorate"],
        id={"type": "integer"}, title={"type": "string"},
        state={"type": "string", "enum": list(voting.VOTE_WORKFLOW.states)}, state_label={"type": "string"},
        version={"type": "integer"},
        target=_obj(["type", "id"], type={"type": "string"}, id={"type": "integer"}),
        rule=_obj(["name"], name={"type": "string"}, title={"type": "string"}, legal_basis={"type": "string"},
                  electorate={"type": "string", "enum": ["owners", "residents"]}),
        scope=_obj(["kind", "id"], kind={"type": "string", "enum": list(voting.SCOPE_KINDS)},
                   id={"type": "integer"}, label={"type": "string"}),
        electorate=_obj(["voters", "households", "area"], voters={"type": "integer"},
                        households={"type": "integer"}, area={"type": "string", "description": "m², exact"}),
        opened_at=TIME, closes_at=TIME, closed_at=TIME,
        passed={"type": ["boolean", "null"], "description": "null until the vote is closed"},
        public_note={"type": "string"},
    ))
    check = _obj(["name", "part", "whole", "required", "inclusive", "met"], name={"type": "string"},
                 measure={"type": "string"}, part={"type": "string"}, whole={"type": "string"}, value=FRACTION,
                 required={"type": "string"}, inclusive={"type": "boolean"}, met={"type": "boolean"})
    schema("VoteResult", _obj(
        ["vote_id", "rule", "passed", "decision", "checks", "lines"],
        vote_id={"type": "integer"}, rule={"type": "string"}, passed={"type": "boolean"},
        decision={"type": "string", "enum": ["passed", "failed"]}, rule_title={"type": "string"},
        legal_basis={"type": "string"}, participation_area=FRACTION, participation_heads=FRACTION,
        consent_area=FRACTION, consent_heads=FRACTION,
        entitled_area={"type": "string"}, entitled_heads={"type": "integer"},
        participating_area={"type": "string"}, participating_heads={"type": "integer"},
        agreeing_area={"type": "string"}, agreeing_heads={"type": "integer"},
        disagreeing_area={"type": "string"}, disagreeing_heads={"type": "integer"},
        abstaining_area={"type": "string"}, abstaining_heads={"type": "integer"},
        checks={"type": "array", "items": check},
        lines={"type": "array", "items": {"type": "string"}, "description": "the published text, plain language"},
    ))
    schema("Ballot", _obj(
        ["id", "household_id", "choice", "channel", "current"], id={"type": "integer"},
        household_id={"type": "integer"}, choice={"type": "string", "enum": list(voting.CHOICES)},
        channel={"type": "string", "enum": list(voting.CHANNELS)}, evidence_ref={"type": "string"},
        cast_at=TIME, current={"type": "boolean"},
    ))
    schema("Objection", _obj(
        ["id", "body", "status"], id={"type": "integer"}, body={"type": "string"},
        status={"type": "string", "enum": ["open", "answered", "withdrawn"]}, filed_at=TIME,
        author={**TEXT_OR_NULL, "description": "shown to staff and to the objector only"},
        answer=TEXT_OR_NULL, answered_at=TIME, withdrawn_at=TIME,
    ))
    schema("Notice", _obj(
        ["id", "title", "body", "days", "published_at", "ends_at", "running", "objections"],
        id={"type": "integer"}, title={"type": "string"}, body={"type": "string"},
        days={"type": "integer", "description": "calendar days; the day of publication is not counted"},
        target=_obj(["type", "id"], type={"type": "string"}, id={"type": "integer"}),
        published_at=TIME, ends_at=TIME, running={"type": "boolean"}, vote_id={"type": ["integer", "null"]},
        objections={"type": "array", "items": ref("Objection")},
    ))
    schema("Meeting", _obj(
        ["id", "kind", "held_on", "place", "participants"], id={"type": "integer"},
        kind={"type": "string", "enum": list(consultation.MEETING_KINDS)}, held_on={"type": "string", "format": "date"},
        place={"type": "string"}, agenda={"type": "string"}, minutes={"type": "string"},
        decisions={"type": "string"}, target=_obj(["type", "id"], type={"type": "string"}, id={"type": "integer"}),
        participants={"type": "array", "items": _obj(["role", "name"], role={
            "type": "string", "enum": list(consultation.PARTICIPANT_ROLES)}, name={"type": "string"})},
        attachments={"type": "array", "items": {"type": "object"}},
    ))
    schema("Comment", _obj(["id", "body"], id={"type": "integer"}, body={"type": "string"}, created_at=TIME,
                           answer=TEXT_OR_NULL, answered_at=TIME))


def _vote_paths() -> None:
    open_body = _obj(
        ["target_type", "target_id"],
        target_type={"type": "string", "description": "renovation_issue, estate_plan, ..."},
        target_id={"type": "integer"},
        version={"type": "integer", "description": "the issue's version (renovation issues: fires open_vote)"},
        scope=_obj(["kind", "id"], kind={"type": "string", "enum": list(voting.SCOPE_KINDS)}, id={"type": "integer"}),
        rule={"type": "string", "description": "default: the city's rule for the matter; only stricter ones allowed"},
        title={"type": "string"}, closes_on={"type": "string", "format": "date"},
    )
    document("/votes", "post", _op("Open a vote (takes the electorate snapshot)", (201, "The opened vote", ref("Vote")),
                                   (403, 404, 409, 422), body=open_body))
    document("/votes/{vote_id}", "get", _op("A vote: rule, electorate and dates, never counts before it closes",
                                             (200, "The vote", ref("Vote")), (404,), params=("vote_id",)))
    document("/votes/{vote_id}/result", "get", _op(
        "The published result: exact fractions, each threshold met or not, the decision and its legal basis",
        (200, "The result", ref("VoteResult")), (404, 409), params=("vote_id",)))
    document("/votes/{vote_id}/ballots", "post", _op(
        "Cast your own ballot online (a later ballot replaces yours while the vote is open)",
        (201, "The ballot recorded", ref("Ballot")), (403, 404, 409, 422), params=("vote_id",),
        body=_obj(["choice"], choice={"type": "string", "enum": list(voting.CHOICES)},
                  household_id={"type": "integer", "description": "only if you may vote for several households"})))
    document("/votes/{vote_id}/my-ballots", "get", _op(
        "Your ballots in this vote, the current one first", (200, "Your ballots", _obj(
            ["ballots"], ballots={"type": "array", "items": ref("Ballot")})), (404,), params=("vote_id",)))
    paper = _obj(["household_id", "choice", "evidence_ref"], household_id={"type": "integer"},
                 choice={"type": "string", "enum": list(voting.CHOICES)},
                 channel={"type": "string", "enum": list(voting.PAPER_CHANNELS)},
                 evidence_ref={"type": "string", "description": "paper ballot number or visit record"})
    document("/votes/{vote_id}/paper-ballots", "post", _op(
        "Grid worker: enter ballots collected on paper or door to door (all or nothing)",
        (201, "The ballots recorded", _obj(["ballots"], ballots={"type": "array", "items": ref("Ballot")})),
        (403, 404, 409, 422), params=("vote_id",),
        body=_obj(["ballots"], ballots={"type": "array", "items": paper, "minItems": 1, "maxItems": 500})))
    document("/votes/{vote_id}/close", "post", _op(
        "Close and count; for an issue, passed → public notice, failed → revise (or withdraw)",
        (200, "The closed vote with its result", {"allOf": [ref("Vote"), _obj(["result"], result=ref("VoteResult"))]}),
        (403, 404, 409, 422), params=("vote_id",),
        body=_obj(["version"], version={"type": "integer"},
                  on_failure={"type": "string", "enum": list(voting.ON_FAILURE)},
                  reason={"type": "string", "description": "shown to residents if the vote fails"})))
    document("/votes/{vote_id}/cancel", "post", _op(
        "Cancel an open vote with a reason residents can read", (200, "The cancelled vote", ref("Vote")),
        (403, 404, 409, 422), params=("vote_id",),
        body=_obj(["version", "reason"], version={"type": "integer"}, reason={"type": "string"})))


def _notice_paths() -> None:
    document("/notices/{notice_id}", "get", _op("A public notice with its objections and answers",
                                                 (200, "The notice", ref("Notice")), (404,),
                                                 params=("notice_id",), tag="notices"))
    document("/notices/{notice_id}/objections", "post", _op(
        "File a written objection (residents and owners of the estate, while the notice runs)",
        (201, "The objection", ref("Objection")), (403, 404, 409, 422), params=("notice_id",), tag="notices",
        body=_obj(["body"], body={"type": "string"})))
    document("/objections/{objection_id}/answer", "post", _op(
        "Community officer: answer an objection in writing", (200, "The answered objection", ref("Objection")),
        (403, 404, 409, 422), params=("objection_id",), tag="notices",
        body=_obj(["answer"], answer={"type": "string"})))
    document("/objections/{objection_id}/withdraw", "post", _op(
        "Withdraw your own objection", (200, "The withdrawn objection", ref("Objection")),
        (403, 404, 409), params=("objection_id",), tag="notices"))


def _consultation_paths() -> None:
    document("/meetings", "post", _op(
        "Record a consultation meeting (attachments through the web page)", (201, "The meeting", ref("Meeting")),
        (403, 404, 422), tag="consultation", body=_obj(
            ["target_type", "target_id", "kind", "held_on", "place"], target_type={"type": "string"},
            target_id={"type": "integer"}, kind={"type": "string", "enum": list(consultation.MEETING_KINDS)},
            held_on={"type": "string", "format": "date"}, place={"type": "string"}, agenda={"type": "string"},
            minutes={"type": "string"}, decisions={"type": "string"},
            participants={"type": "array", "items": {"type": "object"}})))
    document("/meetings/{meeting_id}", "get", _op("A meeting record", (200, "The meeting", ref("Meeting")),
                                                   (404,), params=("meeting_id",), tag="consultation"))
    document("/comments", "post", _op(
        "Comment on a plan or item (residents and owners of the estate)", (201, "The comment", ref("Comment")),
        (403, 404, 422), tag="consultation", body=_obj(
            ["target_type", "target_id", "body"], target_type={"type": "string"}, target_id={"type": "integer"},
            body={"type": "string"})))
    document("/comments/{comment_id}/answer", "post", _op(
        "Staff: answer a comment", (200, "The answered comment", ref("Comment")), (403, 404, 409, 422),
        params=("comment_id",), tag="consultation", body=_obj(["answer"], answer={"type": "string"})))


def register_spec() -> None:
    _schemas()
    _vote_paths()
    _notice_paths()
    _consultation_paths()
