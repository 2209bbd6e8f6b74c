"""JSON API for conventions on the /api/v1 blueprint (core.api).

Thin views over conventions.services; domain errors become JSON in the app's one
handler (404 outside jurisdiction, 403 not allowed, 409 wrong state or stale
version, 422 invalid data with `fields`). Described for /api/v1/openapi.json.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

from flask import jsonify, request, url_for
from flask_babel import gettext as _

from conventions import services
from conventions import text as texts
from conventions.labels import KIND_LABELS
from conventions.models import Convention, ConventionComment, ConventionVersion
from conventions.workflow import WORKFLOW, event_label
from core.api import api, document, require_login
from core.errors import DomainError, ValidationError

DATA_KEYS = frozenset({
    "reason", "entitled_heads", "agree_heads", "disagree_heads", "abstain_heads", "entitled_area", "agree_area",
    "disagree_area", "abstain_area", "vote_date", "vote_reference", "filing_number", "filing_date", "effective_date",
    "closes_on",
})


class MalformedRequest(DomainError):
    status = 400
    code = "malformed_request"


def _body() -> dict:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise MalformedRequest(_("The request body must be a JSON object."))
    return body


def _int(body: dict, name: str, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(_("Some information is missing or invalid."), fields={name: _("Must be a whole number.")})
    return value


def _str(body: dict, name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str):
        raise ValidationError(_("Some information is missing or invalid."), fields={name: _("Must be text.")})
    return value


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    return value.isoformat()


# --- output ----------------------------------------------------------------------


def convention_json(convention: Convention, versions: list[ConventionVersion]) -> dict[str, Any]:
    return {
        "id": convention.id,
        "kind": convention.kind,
        "kind_label": str(KIND_LABELS[convention.kind]),
        "title": convention.title,
        "scope": {"kind": convention.scope_kind, "label": convention.scope_label,
                  "community_id": convention.community_id, "estate_id": convention.estate_id,
                  "building_id": convention.building_id},
        "versions": [version_summary(v) for v in versions],
    }


def version_summary(version: ConventionVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "number": version.number,
        "state": version.state,
        "state_label": str(WORKFLOW.state(version.state).label),
        "version": version.version,
        "effective_date": _iso(version.effective_date),
        "url": url_for("api.convention_version", version_id=version.id),
    }


def _comment_json(comment: ConventionComment) -> dict[str, Any]:
    return {
        "id": comment.id, "article": comment.article_number, "article_current": comment.article_id is not None,
        "text": comment.text, "author": comment.author.name, "created_at": _iso(comment.created_at),
        "answer": comment.answer or None, "answered_at": _iso(comment.answered_at),
    }


def version_json(version: ConventionVersion, actor) -> dict[str, Any]:
    result = version.vote_tally()
    return {
        **version_summary(version),
        "convention_id": version.convention_id,
        "title": version.convention.title,
        "based_on": version.based_on.number if version.based_on else None,
        "preamble": version.preamble,
        "chapters": [{"number": c.position, "label": c.label, "title": c.title} for c in version.chapters],
        "articles": [{"number": a.number, "label": a.label, "chapter": a.chapter.position if a.chapter else None,
                      "text": a.text} for a in version.articles],
        "comments": [_comment_json(c) for c in version.comments],
        "vote": None if result is None else {
            "rule": version.vote_rule, "passed": version.vote_passed, "date": _iso(version.vote_date),
            "reference": version.vote_reference, "result": version.vote_data,
        },
        "vote_rule": version.vote_rule,
        "filing": None if not version.filing_number else {
            "number": version.filing_number, "date": _iso(version.filing_date)},
        "public_note": version.public_note,
        "actions": [{"trigger": t.trigger, "label": str(t.label), "reason": t.reason, "fields": list(t.fields)}
                    for t in WORKFLOW.available(version, actor)],
        "timeline": [{"trigger": e.trigger, "label": str(event_label(e.trigger)), "from": e.from_state,
                      "to": e.to_state, "actor": e.actor_name, "reason": e.reason, "at": _iso(e.created_at)}
                     for e in services.timeline(version)],
    }


# --- routes -----------------------------------------------------------------------


@api.get("/conventions")
def conventions_list():
    actor = require_login()
    items = [convention_json(c, [v for v in c.versions if services.can_read(actor, v)])
             for c in services.staff_conventions(actor)]
    consultations = [version_summary(v) for v in services.consultations_for(actor)]
    return jsonify({"conventions": items, "consultations": consultations})


@api.post("/conventions")
def conventions_create():
    actor = require_login()
    body = _body()
    scope = body.get("scope")
    if not isinstance(scope, dict):
        raise ValidationError(_("Some information is missing or invalid."),
                              fields={"scope": _("Give the scope as {\"kind\": ..., \"id\": ...}.")})
    version = services.create_convention(
        actor, kind=_str(body, "kind"), scope_kind=_str(scope, "kind"), scope_id=_int(scope, "id"),
        title=_str(body, "title", ""), use_draft=bool(body.get("use_draft", True)), text=_str(body, "text", ""),
    )
    return jsonify(version_json(version, actor)), 201


@api.get("/conventions/<int:convention_id>")
def convention_detail(convention_id: int):
    actor = require_login()
    convention, versions = services.get_convention(actor, convention_id)
    return jsonify(convention_json(convention, versions))


@api.post("/conventions/<int:convention_id>/amendments")
def convention_amend(convention_id: int):
    actor = require_login()
    body = _body()
    version = services.amend(actor, convention_id, _str(body, "change_note", ""))
    return jsonify(version_json(version, actor)), 201


@api.get("/convention-versions/<int:version_id>")
def convention_version(version_id: int):
    actor = require_login()
    return jsonify(version_json(services.get_version(actor, version_id), actor))


@api.put("/convention-versions/<int:version_id>/text")
def convention_version_text(version_id: int):
    actor = require_login()
    body = _body()
    expected = _int(body, "version")
    if "text" in body:
        version = services.replace_text(actor, version_id, expected, _str(body, "text"))
    else:
        parsed = texts.from_structure(body.get("preamble", ""), body.get("articles", []), body.get("chapters", []))
        version = services.replace_parsed(actor, version_id, expected, parsed)
    return jsonify(version_json(version, actor))


@api.patch("/convention-versions/<int:version_id>/articles/<int:number>")
def convention_article(version_id: int, number: int):
    actor = require_login()
    body = _body()
    version = services.update_article(actor, version_id, _int(body, "version"), number, _str(body, "text"))
    return jsonify(version_json(version, actor))


@api.post("/convention-versions/<int:version_id>/transitions")
def convention_transition(version_id: int):
    actor = require_login()
    body = _body()
    trigger = _str(body, "trigger")
    expected = _int(body, "version")
    unknown = sorted(set(body) - DATA_KEYS - {"trigger", "version"})
    if unknown:
        raise ValidationError(_("Some information is missing or invalid."),
                              fields={key: _("Unknown field.") for key in unknown})
    data = {key: str(value) for key, value in body.items()
            if key in DATA_KEYS and value is not None and not isinstance(value, bool)}
    version = services.fire_version(actor, version_id, trigger, expected, **data)
    return jsonify(version_json(services.get_version(actor, version.id), actor))


@api.post("/convention-versions/<int:version_id>/comments")
def convention_comment(version_id: int):
    actor = require_login()
    body = _body()
    comment = services.add_comment(actor, version_id, _int(body, "article", required=False), _str(body, "text"))
    return jsonify(_comment_json(comment)), 201


@api.post("/convention-comments/<int:comment_id>/answer")
def convention_comment_answer(comment_id: int):
    actor = require_login()
    body = _body()
    comment = services.answer_comment(actor, comment_id, _str(body, "text"))
    return jsonify(_comment_json(comment))


@api.get("/convention-versions/<int:version_id>/diff")
def convention_diff(version_id: int):
    actor = require_login()
    old, new = services.staff_diff(actor, version_id, request.args.get("against", type=int))
    result = services.version_diff(old, new)
    return jsonify({
        "from": old.number, "to": new.number,
        "changes": [{
            "kind": change.kind,
            "old": change.old.number if change.old else None,
            "new": change.new.number if change.new else None,
            "pieces": [{"op": p.op, "text": p.text} for p in change.pieces],
        } for change in result.changes],
    })


# --- OpenAPI ------------------------------------------------------------------------

_ERRORS = {str(s): {"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
           for s, d in ((400, "Malformed body"), (401, "Not logged in"), (403, "Not allowed"),
                        (404, "Missing or outside jurisdiction"), (409, "Wrong state or stale version"),
                        (422, "Invalid data (see fields)"))}
_OBJECT = {"application/json": {"schema": {"type": "object"}}}


def _describe(path: str, method: str, summary: str, statuses: tuple[int, ...], body: dict | None = None,
              ok: str = "200") -> None:
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
                  for name in re.findall(r"{(\w+)}", path)]
    spec = _op(summary, statuses, body, ok)
    if parameters:
        spec["parameters"] = parameters
    if path == "/convention-versions/{version_id}/diff":
        spec.setdefault("parameters", []).append(
            {"name": "against", "in": "query", "required": False, "schema": {"type": "integer"}})
    document(path, method, spec)


def _op(summary: str, statuses: tuple[int, ...], body: dict | None = None, ok: str = "200") -> dict:
    spec: dict[str, Any] = {"tags": ["conventions"], "summary": summary,
                            "responses": {ok: {"description": "OK", "content": _OBJECT},
                                          **{str(s): _ERRORS[str(s)] for s in statuses}}}
    if body is not None:
        spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return spec


_VERSION = {"version": {"type": "integer", "description": "expected row version (409 when stale)"}}
_describe("/conventions", "get", "Conventions in the caller's jurisdiction and consultations open to them", (401,))
_describe("/conventions", "post", "Create a convention with its first draft", (401, 403, 404, 422), {
    "type": "object", "required": ["kind", "scope"],
    "properties": {"kind": {"enum": list(KIND_LABELS)}, "title": {"type": "string"},
                   "scope": {"type": "object", "properties": {"kind": {"enum": ["community", "estate", "building"]},
                                                              "id": {"type": "integer"}}},
                   "use_draft": {"type": "boolean"}, "text": {"type": "string"}}}, "201")
_describe("/conventions/{convention_id}", "get", "A convention and the versions the caller may read", (401, 404))
_describe("/conventions/{convention_id}/amendments", "post", "Start an amendment (a new draft version)",
          (401, 403, 404, 409), {"type": "object", "properties": {"change_note": {"type": "string"}}}, "201")
_describe("/convention-versions/{version_id}", "get",
          "A version: text, comments, vote, filing, actions the caller may take, timeline", (401, 404))
_describe("/convention-versions/{version_id}/text", "put",
          "Replace the text of a draft (plain text, or preamble/articles/chapters; numbers in it must not clash)",
          (401, 403, 404, 409, 422), {"type": "object", "required": ["version"], "properties": {
              **_VERSION, "text": {"type": "string"}, "preamble": {"type": "string"},
              "articles": {"type": "array"}, "chapters": {"type": "array"}}})
_describe("/convention-versions/{version_id}/articles/{number}", "patch", "Change one article of a draft",
          (401, 403, 404, 409, 422),
          {"type": "object", "required": ["version", "text"], "properties": {**_VERSION, "text": {"type": "string"}}})
_describe("/convention-versions/{version_id}/transitions", "post", "Run a lifecycle step (trigger) with its data",
          (401, 403, 404, 409, 422), {"type": "object", "required": ["trigger", "version"], "properties": {
              "trigger": {"enum": WORKFLOW.triggers()}, **_VERSION,
              **{key: {"type": ["string", "integer"]} for key in sorted(DATA_KEYS)}}})
_describe("/convention-versions/{version_id}/comments", "post",
          "Comment on an article during consultation (residents of the scope)", (401, 403, 404, 409, 422),
          {"type": "object", "required": ["text"], "properties": {"article": {"type": ["integer", "null"]},
                                                                 "text": {"type": "string"}}}, "201")
_describe("/convention-comments/{comment_id}/answer", "post", "Answer a comment (drafters, during consultation)",
          (401, 403, 404, 409, 422), {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}})
_describe("/convention-versions/{version_id}/diff", "get",
          "Per-article, per-word differences with another version (default: the one it amends)", (401, 404))
