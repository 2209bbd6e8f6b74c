"""JSON API of the estate plans and demand campaigns on /api/v1 (described in plans/api_spec.py).

Reading a published plan or a campaign's tally needs no login (the residents' view,
no personal data); staff with the right in the plan's estate read the fuller view
(drafts, the version to send back, who posted). Writes answer like the other APIs:
404 outside jurisdiction, 403 inside it without the right, 409 stale version or wrong
state, 422 invalid data with a `fields` map (money that does not add up, negative or
not a number...).
"""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for
from flask_login import current_user

from core.api import api, invalid, is_whole, require_login
from orgs import permissions
from orgs.roles import LEVEL_LABELS
from rules.categories import CATEGORIES
from rules.policy import current_policy
from workflow.timeline import iso_utc, org_json
from issues.api import json_object
from issues.renovation import WORKFLOW as ISSUE_WORKFLOW
from plans import api_spec  # noqa: F401 - registers the OpenAPI description
from plans import services
from plans.models import FATES, FUNDING_PARTS, ITEM_STATES, PLAN_WORKFLOW, DemandCampaign, PlanRecord

MAX_PER_PAGE = 100


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _item(item, public: bool) -> dict[str, Any]:
    """An item row of plans.services.items()."""
    body = {
        "id": item.id,
        "position": item.position,
        "title": item.title,
        "category": item.category,
        "category_label": str(CATEGORIES.get(item.category, item.category)),
        "state": item.state,
        "state_label": str(ITEM_STATES[item.state]),
        "progress": item.progress,
        "deadline": item.deadline.isoformat() if item.deadline else None,
        "level": item.level,
        "level_label": str(LEVEL_LABELS.get(item.level, item.level)),
        "budget": _money(item.budget),
        "note": item.note,
        "issue": None if item.issue_id is None else {
            "id": item.issue_id, "state": item.issue_state, "state_label": _issue_state_label(item.issue_state),
        },
    }
    if not public:
        body["updated_at"] = iso_utc(item.updated_at)
    return body


def _issue_state_label(name: str) -> str:
    state = ISSUE_WORKFLOW.states[name]
    return str(state.public_label or state.label)


def _bulletin(bulletin, public: bool) -> dict[str, Any]:
    body = {
        "id": bulletin.id, "title": bulletin.title, "body": bulletin.body, "item_id": bulletin.item_id,
        "posted_at": iso_utc(bulletin.posted_at), "posted_by_org": org_json(bulletin.posted_by_org),
    }
    if not public:
        body["posted_by"] = {"id": bulletin.posted_by_id, "name": bulletin.posted_by.name}
    return body


def _summary(record: PlanRecord) -> dict[str, Any]:
    return {
        "id": record.id, "plan_id": record.plan_id, "title": record.plan.title, "year": record.plan.year,
        "estate": {"id": record.estate_id, "name": record.estate.name},
        "state": record.state, "state_label": str(PLAN_WORKFLOW.states[record.state].label),
        "published_at": iso_utc(record.published_at),
        "url": url_for("api.get_plan", record_id=record.id),
    }


def _page(name: str, default: int, high: int, errors: dict) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= high:
        errors[name] = f"1-{high}"
    return value


def plan_detail(record: PlanRecord, public: bool, page: int = 1, per_page: int = services.BULLETINS_PER_PAGE) -> dict:
    rows = services.items(record)
    summary = services.summarise(rows, services.local_today())
    bulletins = services.bulletins(record, page, per_page)
    body = _summary(record)
    body.update({
        "summary": record.plan.summary,
        "progress": summary.progress,
        "overdue_items": summary.overdue,
        "budget": {
            "total": _money(record.budget_total),
            "parts": [{"part": name, "label": str(FUNDING_PARTS[name]), "amount": _money(amount),
                       "percent": str(percent)}
                      for name, amount, percent in services.funding_shares(record)],
        },
        "items": [_item(item, public) for item in rows],
        "bulletins": {
            "items": [_bulletin(b, public) for b in bulletins.rows],
            "total": bulletins.total, "page": bulletins.page, "pages": bulletins.pages,
        },
        "notices": [{"id": n.id, "title": n.title, "published_at": iso_utc(n.published_at),
                     "ends_at": iso_utc(n.ends_at), "running": n.is_running()} for n in services.notices(record)],
        "votes": [{"id": v.id, "title": v.title, "state": v.state, "closes_at": iso_utc(v.closes_at),
                   "closed_at": iso_utc(v.closed_at), "passed": v.passed if v.state == "closed" else None}
                  for v in services.votes(record)],
        "campaigns": [{"id": c.id, "title": c.title, "url": url_for("api.get_campaign", campaign_id=c.id)}
                      for c in services.campaigns(record.estate_id, limit=10)],
    })
    if not public:
        body["version"] = record.version
        body["actions"] = [t.trigger for t in PLAN_WORKFLOW.available(record, current_user)]
    return body


def _viewable(record_id: int) -> tuple[PlanRecord, bool]:
    """The plan and whether the public view applies: staff with plan.view read the fuller one."""
    if current_user.is_authenticated:
        record = services.db_record(record_id)
        if record is not None and permissions.can(current_user, "plan.view", record):
            return record, False
    return services.public_record(record_id), True


@api.get("/plans")
def list_plans() -> Response:
    records = {record.id: record for record in services.published_records()}
    for record in services.staff_records(current_user):
        records.setdefault(record.id, record)
    return jsonify({"items": [_summary(r) for r in sorted(records.values(), key=lambda r: (r.estate_id, -r.id))]})


@api.post("/plans")
def create_plan() -> tuple[Response, int, dict[str, str]]:
    actor = require_login()
    body = json_object()
    record = services.create_plan(actor, estate_id=body.get("estate_id"), year=body.get("year"),
                                  title=body.get("title", ""), summary=body.get("summary", ""))
    return jsonify(plan_detail(record, False)), 201, {"Location": url_for("api.get_plan", record_id=record.id)}


@api.get("/plans/<int:record_id>")
def get_plan(record_id: int) -> Response:
    record, public = _viewable(record_id)
    errors: dict[str, str] = {}
    page = _page("page", 1, 2**31 - 1, errors)
    per_page = _page("per_page", services.BULLETINS_PER_PAGE, MAX_PER_PAGE, errors)
    if errors:
        raise invalid(errors)
    return jsonify(plan_detail(record, public, page, per_page))


def _version(body: dict) -> int | None:
    version = body.get("version")
    if version is not None and not is_whole(version):
        raise invalid({"version": "integer"})
    return version


def _fresh(actor, record_id: int, status: int = 200) -> tuple[Response, int]:
    return jsonify(plan_detail(services.get_record(actor, record_id), False)), status


@api.put("/plans/<int:record_id>/budget")
def set_plan_budget(record_id: int):
    actor = require_login()
    body = json_object()
    services.set_budget(actor, record_id, _version(body), total=body.get("total"), government=body.get("government"),
                        owners=body.get("owners"), social=body.get("social"))
    return _fresh(actor, record_id)


@api.post("/plans/<int:record_id>/items")
def add_plan_item(record_id: int):
    actor = require_login()
    body = json_object()
    services.add_item(actor, record_id, _version(body), body)
    return _fresh(actor, record_id, 201)


@api.patch("/plans/<int:record_id>/items/<int:item_id>")
def update_plan_item(record_id: int, item_id: int):
    actor = require_login()
    body = json_object()
    services.update_item(actor, record_id, item_id, _version(body), body)
    return _fresh(actor, record_id)


@api.post("/plans/<int:record_id>/bulletins")
def post_plan_bulletin(record_id: int):
    actor = require_login()
    body = json_object()
    services.post_bulletin(actor, record_id, title=body.get("title"), body=body.get("body", ""),
                           item_id=body.get("item_id"))
    return _fresh(actor, record_id, 201)


@api.post("/plans/<int:record_id>/transitions")
def fire_plan_transition(record_id: int):
    actor = require_login()
    body = json_object()
    trigger = body.get("trigger")
    if not isinstance(trigger, str) or trigger not in PLAN_WORKFLOW.triggers():
        raise invalid({"trigger": ", ".join(PLAN_WORKFLOW.triggers())})
    reason = body.get("reason") or ""
    if not isinstance(reason, str):
        raise invalid({"reason": "string"})
    services.fire(actor, record_id, trigger, _version(body), reason)
    return _fresh(actor, record_id)


# --- campaigns ---------------------------------------------------------------------------


def campaign_detail(campaign: DemandCampaign) -> dict[str, Any]:
    tally = services.tally(campaign)
    label = current_policy().subcategory_label
    return {
        "id": campaign.id, "title": campaign.title, "description": campaign.description,
        "estate": {"id": campaign.estate_id, "name": campaign.estate.name},
        "opens_on": campaign.opens_on.isoformat(), "closes_on": campaign.closes_on.isoformat(),
        "state": campaign.state, "version": campaign.version,
        "tally": {
            "total": tally.total,
            "by_category": [{"category": c, "label": str(CATEGORIES.get(c, c)), "count": n}
                            for c, n in tally.by_category],
            "by_subcategory": [{"category": c, "subcategory": s, "label": label(s), "count": n}
                               for c, s, n in tally.by_subcategory],
            "by_fate": {code: tally.by_fate.get(code, 0) for code in FATES},
        },
        "mine": [{"issue_id": d.issue.id, "title": d.issue.title, "fate": d.fate, "fate_label": str(FATES[d.fate]),
                  "reason": d.reason} for d in services.my_demands(current_user, campaign)],
    }


@api.get("/campaigns/<int:campaign_id>")
def get_campaign(campaign_id: int) -> Response:
    return jsonify(campaign_detail(services.get_campaign(campaign_id)))


@api.post("/campaigns")
def create_campaign():
    actor = require_login()
    body = json_object()
    campaign = services.create_campaign(actor, estate_id=body.get("estate_id"), title=body.get("title"),
                                        description=body.get("description", ""), opens_on=body.get("opens_on"),
                                        closes_on=body.get("closes_on"))
    return (jsonify(campaign_detail(services.get_campaign(campaign.id))), 201,
            {"Location": url_for("api.get_campaign", campaign_id=campaign.id)})


@api.post("/campaigns/<int:campaign_id>/demands")
def link_campaign_demand(campaign_id: int):
    actor = require_login()
    body = json_object()
    if body.get("collect") is True:
        services.collect(actor, campaign_id)
    else:
        services.link_demand(actor, campaign_id, body.get("issue_id"))
    return jsonify(campaign_detail(services.get_campaign(campaign_id)))

