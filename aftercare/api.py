"""JSON API of management after acceptance on /api/v1 (thin over aftercare.services), with its
OpenAPI description: patrol routes and walks, warranty repairs, and maintenance fund uses
with their ledger. 404 outside jurisdiction, 403 not allowed, 409 wrong state, 422 bad data."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from core.api import JSON, api, document, invalid, is_whole, json_content, require_login, schema, text_field
from issues.api import json_object
from issues.api_spec import TIME, error_responses
from workflow.timeline import as_json, iso_utc
from aftercare import services
from aftercare.models import FundUse, Handover, PatrolPlan, PatrolRound, WarrantyRequest


def _optional_id(body: dict, name: str, errors: dict) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not is_whole(value) or value < 1:
        errors[name] = _("Must be a whole number.")
        return None
    return value


def _version(body: dict, errors: dict) -> int | None:
    value = body.get("version")
    if value is not None and not is_whole(value):
        errors["version"] = _("Must be a whole number.")
        return None
    return value


def plan_json(plan: PatrolPlan) -> dict:
    return {"id": plan.id, "estate_id": plan.estate_id, "title": plan.title, "every_days": plan.every_days,
            "points": [{"id": p.id, "position": p.position, "label": p.label, "what_to_check": p.what_to_check,
                        "building_id": p.building_id} for p in plan.points]}


def round_json(patrol: PatrolRound) -> dict:
    point = services.next_point(patrol)
    return {"id": patrol.id, "plan_id": patrol.plan_id, "state": patrol.state, "version": patrol.version,
            "walker": {"id": patrol.walker_id, "name": patrol.walker.name}, "started_at": iso_utc(patrol.started_at),
            "next_point_id": point.id if point else None,
            "checks": [{"point_id": c.point_id, "result": c.result, "note": c.note, "issue_id": c.issue_id}
                       for c in patrol.checks]}


def repair_json(repair: WarrantyRequest) -> dict:
    return {"id": repair.id, "estate_id": repair.estate_id, "building_id": repair.building_id, "title": repair.title,
            "description": repair.description, "state": repair.state, "version": repair.version,
            "due_at": iso_utc(repair.due_at), "timeline": as_json(repair)}


def fund_json(fund_use: FundUse) -> dict:
    notice = services.fund_notice(fund_use)
    return {"id": fund_use.id, "estate_id": fund_use.estate_id, "title": fund_use.title, "purpose": fund_use.purpose,
            "amount": str(fund_use.amount), "spent": str(fund_use.spent), "remaining": str(fund_use.remaining),
            "state": fund_use.state, "version": fund_use.version,
            "notice": {"id": notice.id, "ends_at": iso_utc(notice.ends_at)} if notice else None,
            "ledger": [{"id": s.id, "amount": str(s.amount), "payee": s.payee, "spent_on": s.spent_on.isoformat(),
                        "note": s.note} for s in fund_use.spendings]}


@api.route("/aftercare/patrols/<int:plan_id>")
def aftercare_plan_get(plan_id: int):
    actor = require_login()
    return jsonify(plan_json(services.get_record(PatrolPlan, actor, plan_id)))


@api.route("/aftercare/patrols/<int:plan_id>/points", methods=["POST"])
def aftercare_point_add(plan_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    label = text_field(body, "label", errors, limit=200, required=True)
    what = text_field(body, "what_to_check", errors, limit=2000)
    building_id = _optional_id(body, "building_id", errors)
    if errors:
        raise invalid(errors)
    services.add_patrol_point(actor, plan_id, label=label, what_to_check=what, building_id=building_id)
    return jsonify(plan_json(services.get_record(PatrolPlan, actor, plan_id))), 201


@api.route("/aftercare/patrols/<int:plan_id>/rounds", methods=["POST"])
def aftercare_round_start(plan_id: int):
    actor = require_login()
    return jsonify(round_json(services.start_round(actor, plan_id))), 201


@api.route("/aftercare/rounds/<int:round_id>")
def aftercare_round_get(round_id: int):
    actor = require_login()
    return jsonify(round_json(services.get_round(actor, round_id)))


@api.route("/aftercare/rounds/<int:round_id>/checks", methods=["POST"])
def aftercare_round_check(round_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    point_id = _optional_id(body, "point_id", errors)
    if point_id is None and "point_id" not in errors:
        errors["point_id"] = _("This field is required.")
    result = text_field(body, "result", errors, required=True)
    note = text_field(body, "note", errors, limit=2000)
    category = text_field(body, "category", errors) or "basic"
    subcategory = text_field(body, "subcategory", errors)
    if errors:
        raise invalid(errors)
    services.get_round(actor, round_id)
    services.check_point(actor, round_id, point_id, result=result, note=note, category=category,
                         subcategory=subcategory)
    return jsonify(round_json(services.get_round(actor, round_id))), 201


@api.route("/aftercare/rounds/<int:round_id>/finish", methods=["POST"])
def aftercare_round_finish(round_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    version = _version(body, errors)
    if errors:
        raise invalid(errors)
    services.get_round(actor, round_id)
    return jsonify(round_json(services.finish_round(actor, round_id, version)))


def handover_json(handover: Handover) -> dict:
    document = services.stored(handover.record_document_id)
    return {"id": handover.id, "estate_id": handover.estate_id, "property_company": handover.property_company,
            "state": handover.state, "version": handover.version,
            "items": [{"id": i.id, "kind": i.kind, "label": i.label, "done": i.done, "note": i.note}
                      for i in handover.items],
            "record_sha256": document.sha256 if document else None, "timeline": as_json(handover)}


@api.route("/aftercare/estates/<int:estate_id>/handover", methods=["POST"])
def aftercare_handover_open(estate_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    company = text_field(body, "property_company", errors, limit=200, required=True)
    if errors:
        raise invalid(errors)
    return jsonify(handover_json(services.open_handover(actor, estate_id, property_company=company))), 201


@api.route("/aftercare/handovers/<int:handover_id>")
def aftercare_handover_get(handover_id: int):
    actor = require_login()
    return jsonify(handover_json(services.get_record(Handover, actor, handover_id)))


@api.route("/aftercare/handovers/<int:handover_id>/items/<int:item_id>/done", methods=["POST"])
def aftercare_handover_item_done(handover_id: int, item_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    note = text_field(body, "note", errors, limit=1000)
    if errors:
        raise invalid(errors)
    services.get_record(Handover, actor, handover_id)
    services.mark_handed_over(actor, handover_id, item_id, note=note)
    return jsonify(handover_json(services.get_record(Handover, actor, handover_id)))


@api.route("/aftercare/handovers/<int:handover_id>/transitions", methods=["POST"])
def aftercare_handover_fire(handover_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    trigger = text_field(body, "trigger", errors, required=True)
    version = _version(body, errors)
    if trigger and trigger not in ("confirm", "sign"):
        errors["trigger"] = _("Unknown action: %(trigger)s.", trigger=trigger[:40])
    if errors:
        raise invalid(errors)
    services.get_record(Handover, actor, handover_id)
    if trigger == "sign":
        handover = services.sign_handover(actor, handover_id, version)
    else:
        handover = services.confirm_handover(actor, handover_id, version)
    return jsonify(handover_json(handover))


@api.route("/aftercare/estates/<int:estate_id>/repairs", methods=["POST"])
def aftercare_repair_request(estate_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    title = text_field(body, "title", errors, limit=200, required=True)
    description = text_field(body, "description", errors, limit=5000)
    building_id = _optional_id(body, "building_id", errors)
    issue_id = _optional_id(body, "issue_id", errors)
    if errors:
        raise invalid(errors)
    repair = services.request_repair(actor, estate_id, title=title, description=description,
                                     building_id=building_id, issue_id=issue_id)
    return jsonify(repair_json(repair)), 201


@api.route("/aftercare/repairs/<int:request_id>/transitions", methods=["POST"])
def aftercare_repair_fire(request_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    trigger = text_field(body, "trigger", errors, required=True)
    reason = text_field(body, "reason", errors, limit=2000)
    version = _version(body, errors)
    if trigger and trigger not in WarrantyRequest.workflow.triggers():
        errors["trigger"] = _("Unknown action: %(trigger)s.", trigger=trigger[:40])
    if errors:
        raise invalid(errors)
    services.get_record(WarrantyRequest, actor, request_id)
    return jsonify(repair_json(services.fire_repair(actor, request_id, trigger, version, reason=reason)))


@api.route("/aftercare/estates/<int:estate_id>/funds", methods=["POST"])
def aftercare_fund_propose(estate_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    title = text_field(body, "title", errors, limit=200, required=True)
    purpose = text_field(body, "purpose", errors, limit=5000)
    if errors:
        raise invalid(errors)
    fund_use = services.propose_fund_use(actor, estate_id, title=title, purpose=purpose, amount=body.get("amount"))
    return jsonify(fund_json(fund_use)), 201


@api.route("/aftercare/funds/<int:fund_use_id>")
def aftercare_fund_get(fund_use_id: int):
    actor = require_login()
    return jsonify(fund_json(services.get_record(FundUse, actor, fund_use_id)))


@api.route("/aftercare/funds/<int:fund_use_id>/spending", methods=["POST"])
def aftercare_fund_spend(fund_use_id: int):
    actor = require_login()
    body = json_object()
    errors: dict = {}
    payee = text_field(body, "payee", errors, limit=200, required=True)
    spent_on = text_field(body, "spent_on", errors, required=True)
    note = text_field(body, "note", errors, limit=2000)
    if errors:
        raise invalid(errors)
    services.get_record(FundUse, actor, fund_use_id)
    services.record_spending(actor, fund_use_id, amount=body.get("amount"), payee=payee, spent_on=spent_on, note=note)
    return jsonify(fund_json(services.get_record(FundUse, actor, fund_use_id))), 201


# --- OpenAPI -----------------------------------------------------------------------------------

INTEGER = {"type": "integer"}
TEXT = {"type": "string"}
MONEY = {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$",
         "description": "exact yuan as a decimal string, more than zero, at most two decimals"}


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}


def _body(required: list[str], properties: dict) -> dict:
    return {"required": True, "content": {JSON: {"schema": {"type": "object", "required": required,
                                                             "properties": properties}}}}


def describe() -> None:
    schema("PatrolPlan", {"type": "object", "required": ["id", "title", "points"],
                          "properties": {"id": INTEGER, "estate_id": INTEGER, "title": TEXT, "every_days": INTEGER,
                                         "points": {"type": "array"}}})
    schema("PatrolRound", {"type": "object", "required": ["id", "state", "version"],
                           "properties": {"id": INTEGER, "plan_id": INTEGER, "state": TEXT, "version": INTEGER,
                                          "started_at": TIME, "next_point_id": {"type": ["integer", "null"]},
                                          "checks": {"type": "array"}}})
    schema("WarrantyRequest", {"type": "object", "required": ["id", "state", "version"],
                               "properties": {"id": INTEGER, "title": TEXT, "state": TEXT, "version": INTEGER,
                                              "due_at": TIME, "timeline": {"type": "array"}}})
    schema("FundUse", {"type": "object", "required": ["id", "amount", "state"],
                       "properties": {"id": INTEGER, "title": TEXT, "amount": MONEY, "spent": TEXT, "remaining": TEXT,
                                      "state": TEXT, "version": INTEGER, "notice": {"type": ["object", "null"]},
                                      "ledger": {"type": "array"}}})
    schema("Handover", {"type": "object", "required": ["id", "state", "version", "items"],
                        "properties": {"id": INTEGER, "property_company": TEXT, "state": TEXT, "version": INTEGER,
                                       "items": {"type": "array"}, "record_sha256": {"type": ["string", "null"]},
                                       "timeline": {"type": "array"}}})
    tag = ["aftercare"]
    ops = {
        ("/aftercare/estates/{estate_id}/handover", "post"): (
            "openHandover", "Start the estate's handover to the property company (with the default checklist)",
            [_path_id("estate_id")], _body(["property_company"], {"property_company": TEXT}), "201", "Handover",
            (400, 401, 403, 404, 409, 422)),
        ("/aftercare/handovers/{handover_id}", "get"): (
            "getHandover", "A handover with its checklist and timeline", [_path_id("handover_id")], None, "200",
            "Handover", (401, 404)),
        ("/aftercare/handovers/{handover_id}/items/{item_id}/done", "post"): (
            "markHandedOver", "Mark a checklist item as handed over",
            [_path_id("handover_id"), _path_id("item_id")], _body([], {"note": TEXT}), "200", "Handover",
            (400, 401, 403, 404, 409, 422)),
        ("/aftercare/handovers/{handover_id}/transitions", "post"): (
            "fireHandover", "confirm (the property company, checklist complete) or sign (the signed record; "
                            "signing twice answers 409)",
            [_path_id("handover_id")],
            _body(["trigger"], {"trigger": {"type": "string", "enum": ["confirm", "sign"]}, "version": INTEGER}),
            "200", "Handover", (400, 401, 403, 404, 409, 422)),
        ("/aftercare/patrols/{plan_id}", "get"): (
            "getPatrolPlan", "A patrol route with its points", [_path_id("plan_id")], None, "200", "PatrolPlan",
            (401, 404)),
        ("/aftercare/patrols/{plan_id}/points", "post"): (
            "addPatrolPoint", "Add a point to a route; a building outside the estate answers 422",
            [_path_id("plan_id")],
            _body(["label"], {"label": TEXT, "what_to_check": TEXT, "building_id": INTEGER}), "201", "PatrolPlan",
            (400, 401, 403, 404, 422)),
        ("/aftercare/patrols/{plan_id}/rounds", "post"): (
            "startPatrol", "Start walking a route", [_path_id("plan_id")], None, "201", "PatrolRound",
            (401, 403, 404, 409)),
        ("/aftercare/rounds/{round_id}", "get"): ("getPatrol", "A patrol with its checks", [_path_id("round_id")], None,
                                                 "200", "PatrolRound", (401, 404)),
        ("/aftercare/rounds/{round_id}/checks", "post"): (
            "checkPatrolPoint", "Check a point: ok, or a finding that becomes a renovation issue in the same step",
            [_path_id("round_id")],
            _body(["point_id", "result"], {"point_id": INTEGER, "result": {"type": "string", "enum": ["ok", "finding"]},
                                           "note": TEXT, "category": TEXT, "subcategory": TEXT}),
            "201", "PatrolRound", (400, 401, 403, 404, 409, 422)),
        ("/aftercare/rounds/{round_id}/finish", "post"): (
            "finishPatrol", "Finish a patrol once every point is checked", [_path_id("round_id")],
            _body([], {"version": INTEGER}), "200", "PatrolRound", (400, 401, 403, 404, 409, 422)),
        ("/aftercare/estates/{estate_id}/repairs", "post"): (
            "requestWarrantyRepair", "A repair under the builder's warranty, sent to the builder with deadlines",
            [_path_id("estate_id")],
            _body(["title"], {"title": TEXT, "description": TEXT, "building_id": INTEGER, "issue_id": INTEGER}),
            "201", "WarrantyRequest", (400, 401, 403, 404, 422)),
        ("/aftercare/repairs/{request_id}/transitions", "post"): (
            "fireWarrantyRepair", "accept / decline (builder), report_repaired (builder), confirm / reject",
            [_path_id("request_id")],
            _body(["trigger"], {"trigger": {"type": "string", "enum": WarrantyRequest.workflow.triggers()},
                                "version": INTEGER, "reason": TEXT}),
            "200", "WarrantyRequest", (400, 401, 403, 404, 409, 422)),
        ("/aftercare/estates/{estate_id}/funds", "post"): (
            "proposeFundUse", "Propose a use of the maintenance fund (then put to the owners' vote: "
                              "POST /votes via the procedures pages)",
            [_path_id("estate_id")], _body(["title", "amount"], {"title": TEXT, "purpose": TEXT, "amount": MONEY}),
            "201", "FundUse", (400, 401, 403, 404, 422)),
        ("/aftercare/funds/{fund_use_id}", "get"): ("getFundUse", "A fund use with its notice and ledger",
                                                   [_path_id("fund_use_id")], None, "200", "FundUse", (401, 404)),
        ("/aftercare/funds/{fund_use_id}/spending", "post"): (
            "recordFundSpending", "A line of the ledger: after the notice period, never beyond the amount decided",
            [_path_id("fund_use_id")],
            _body(["amount", "payee", "spent_on"], {"amount": MONEY, "payee": TEXT,
                                                    "spent_on": {"type": "string", "format": "date"}, "note": TEXT}),
            "201", "FundUse", (400, 401, 403, 404, 409, 422)),
    }
    for (path, method), (operation, summary, parameters, body, status, answer, errors) in ops.items():
        spec = {"operationId": operation, "summary": summary, "tags": tag, "parameters": parameters,
                "responses": {status: json_content(summary, {"$ref": f"#/components/schemas/{answer}"}),
                              **error_responses(*errors)}}
        if body is not None:
            spec["requestBody"] = body
        document(path, method, spec)


describe()
