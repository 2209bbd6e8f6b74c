"""Services of management after acceptance: patrols, handover, warranty repairs and the
maintenance fund. Every function takes the actor; each write is one transaction, audited."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.db import lock, utcnow, write_transaction
from core.errors import InvalidTransition, NotFound, ValidationError
from core.extensions import db
from documents import services as documents
from documents.models import StoredDocument
from documents.pdf import render_template_pdf
from issues.models import RenovationIssue
from issues.renovation import initial_state_for
from orgs import permissions
from orgs.models import Building, Estate, Household
from procedures import notice as notices
from procedures import voting
from procedures.subjects import Target, register_target
from rules import categories
from rules.calendar import LOCAL
from rules.policy import current_policy
from rules.tally import SubjectKind
from workflow import audit, engine
from workflow.sweep import overdue_loop
from aftercare.models import (
    DEFAULT_HANDOVER_ITEMS,
    FUND_TARGET,
    HANDOVER_KINDS,
    FundSpending,
    EstateScope,
    FundUse,
    Handover,
    HandoverItem,
    PatrolCheck,
    PatrolPlan,
    PatrolPoint,
    PatrolRound,
    WarrantyRequest,
)

MAX_AMOUNT = Decimal("999999999999.99")


def invalid(fields: dict) -> ValidationError:
    return ValidationError(_("Some information is missing or invalid."), fields=fields)


def _clean(value, limit: int) -> str:
    return str(value or "").strip()[:limit]


def _estate(actor, estate_id, action: str) -> Estate:
    estate = db.session.get(Estate, estate_id) if isinstance(estate_id, int) else None
    if estate is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, action, EstateScope(estate.id, estate.path))
    return estate


def get_record(model, actor, ident: int, action: str = "aftercare.view"):
    obj = db.session.get(model, ident)
    if obj is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, action, obj)
    return obj


def visible_estates(actor) -> list[Estate]:
    """Estates whose management the actor follows: in their jurisdiction, or where they live or work."""
    staff = permissions.subtree_paths(actor)
    # The estates under the actor's org nodes, and those whose community a grid, building group or
    # member household works in (the estate's path lies above theirs).
    above = {path[:index + 1] for path in staff for index, char in enumerate(path) if char == "/"}
    rows = list(db.session.scalars(select(Estate).where(permissions.path_filter(Estate.path, staff)
                                                        | Estate.path.in_(above)).order_by(Estate.code).limit(500)))
    own = set(actor.household_ids) if getattr(actor, "household_ids", None) else set()
    if own:
        extra = db.session.scalars(select(Estate).join(Household, Household.estate_id == Estate.id)
                                   .where(Household.id.in_(own)).distinct())
        rows += [estate for estate in extra if estate not in rows]
    return rows


def estate_for(actor, estate_id: int) -> Estate:
    return _estate(actor, estate_id, "aftercare.view")


def overview(estate: Estate) -> dict:
    return {
        "plans": list(db.session.scalars(select(PatrolPlan).where(PatrolPlan.estate_id == estate.id)
                                         .order_by(PatrolPlan.id))),
        "handover": db.session.scalar(select(Handover).where(Handover.estate_id == estate.id)),
        "warranty": list(db.session.scalars(select(WarrantyRequest).where(WarrantyRequest.estate_id == estate.id)
                                            .order_by(WarrantyRequest.id.desc()).limit(200))),
        "funds": list(db.session.scalars(select(FundUse).where(FundUse.estate_id == estate.id)
                                         .order_by(FundUse.id.desc()).limit(200))),
    }


# --- patrols --------------------------------------------------------------------------------


def create_patrol_plan(actor, estate_id: int, *, title: str, every_days: int = 7) -> PatrolPlan:
    title = _clean(title, 200)
    errors = {}
    if not title:
        errors["title"] = _("Please give a short title.")
    if not isinstance(every_days, int) or not 1 <= every_days <= 90:
        errors["every_days"] = _("Between 1 and 90 days.")
    if errors:
        raise invalid(errors)
    with write_transaction():
        estate = _estate(actor, estate_id, "aftercare.manage")
        plan = PatrolPlan(estate=estate, title=title, every_days=every_days, path=estate.path,
                          created_by_id=actor.id)
        db.session.add(plan)
        db.session.flush()
    return plan


def add_patrol_point(actor, plan_id: int, *, label: str, what_to_check: str = "",
                     building_id: int | None = None) -> PatrolPoint:
    """A point of the route. It lies inside the estate: its building, when given, must be one
    of the estate's (a building of another estate answers 422 and nothing is written)."""
    label = _clean(label, 200)
    if not label:
        raise invalid({"label": _("Name the point (e.g. north gate, building 3 stairwell).")})
    with write_transaction():
        plan = get_record(PatrolPlan, actor, plan_id, "aftercare.manage")
        building = None
        if building_id is not None:
            building = db.session.get(Building, building_id) if isinstance(building_id, int) else None
            if building is None or building.estate_id != plan.estate_id:
                raise ValidationError(_("The patrol point must lie inside the estate."),
                                      fields={"building_id": _("Not a building of this estate.")})
        point = PatrolPoint(plan=plan, position=len(plan.points) + 1, label=label,
                            what_to_check=_clean(what_to_check, 2000), building=building)
        db.session.add(point)
        db.session.flush()
    return point


def start_round(actor, plan_id: int) -> PatrolRound:
    with write_transaction():
        plan = get_record(PatrolPlan, actor, plan_id, "aftercare.patrol")
        if not plan.points:
            raise InvalidTransition(_("This route has no points yet."))
        patrol = PatrolRound(plan=plan, estate_id=plan.estate_id, walker_id=actor.id, path=plan.path)
        engine.start(patrol, actor, trigger="start", payload={"plan_id": plan.id, "points": len(plan.points)})
    return patrol


def get_round(actor, round_id: int) -> PatrolRound:
    return get_record(PatrolRound, actor, round_id, "aftercare.view")


def next_point(patrol: PatrolRound) -> PatrolPoint | None:
    done = {check.point_id for check in patrol.checks}
    return next((p for p in patrol.plan.points if p.id not in done), None)


def check_point(actor, round_id: int, point_id: int, *, result: str, note: str = "", category: str = "basic",
                subcategory: str = "") -> PatrolCheck:
    """The walker checks one point: all in order, or a finding, which becomes a renovation issue
    at the point's place in the same step (at the level answering for that place)."""
    note = _clean(note, 2000)
    if result not in ("ok", "finding"):
        raise invalid({"result": _("Choose: in order, or a problem found.")})
    if result == "finding":
        errors = {}
        if not note:
            errors["note"] = _("Describe the problem found.")
        if category not in categories.CATEGORIES or not current_policy().valid(category, subcategory):
            errors["subcategory"] = _("Choose a sub-category of the chosen category.")
        if errors:
            raise invalid(errors)
    with write_transaction():
        patrol = lock(PatrolRound, round_id)
        if patrol is None or not permissions.can_see(actor, patrol):
            raise NotFound(_("Not found."))
        if patrol.walker_id != actor.id:
            raise InvalidTransition(_("Only the person walking this patrol records its checks."))
        if patrol.state != "walking":
            raise InvalidTransition(_("This patrol is finished."))
        point = next((p for p in patrol.plan.points if p.id == point_id), None)
        if point is None:
            raise NotFound(_("Not found."))
        if any(check.point_id == point.id for check in patrol.checks):
            raise InvalidTransition(_("This point has been checked on this patrol already."))
        issue_id = _raise_finding(actor, patrol, point, note, category, subcategory) if result == "finding" else None
        check = PatrolCheck(round=patrol, point=point, result=result, note=note, issue_id=issue_id)
        db.session.add(check)
        db.session.flush()
        engine.record_event(patrol, actor, "check", payload={"point_id": point.id, "result": result,
                                                             "issue_id": issue_id})
    return check


def _raise_finding(actor, patrol: PatrolRound, point: PatrolPoint, note: str, category: str,
                   subcategory: str) -> int:
    """The finding as a demand of the renovation issue workflow, at the point's building (or
    the estate), starting at the first level answering for that place."""
    place = point.building or patrol.plan.estate
    issue = RenovationIssue(
        title=_clean(f"{point.label}: {note}", 200), description=note, category=category, subcategory=subcategory,
        direction="demand", estate_id=patrol.estate_id, building=point.building, raised_by_id=actor.id,
        path=place.path)
    engine.start(issue, actor, state=initial_state_for(issue),
                 payload={"patrol_round_id": patrol.id, "point_id": point.id})
    return issue.id


def finish_round(actor, round_id: int, version: int | None) -> PatrolRound:
    return engine.fire(PatrolRound, round_id, "finish", actor, version)


def rounds_of(plan: PatrolPlan, limit: int = 50) -> list[PatrolRound]:
    return list(db.session.scalars(select(PatrolRound).where(PatrolRound.plan_id == plan.id)
                                   .order_by(PatrolRound.id.desc()).limit(limit)))


# --- handover -------------------------------------------------------------------------------


def open_handover(actor, estate_id: int, *, property_company: str) -> Handover:
    name = _clean(property_company, 200)
    if not name:
        raise invalid({"property_company": _("Name the property company.")})
    with write_transaction():
        estate = _estate(actor, estate_id, "aftercare.manage")
        if db.session.scalar(select(Handover.id).where(Handover.estate_id == estate.id)) is not None:
            raise InvalidTransition(_("This estate's handover has been started already."))
        handover = Handover(estate=estate, property_company=name, path=estate.path,
                            items=[HandoverItem(position=i + 1, kind=kind, label=label)
                                   for i, (kind, label) in enumerate(DEFAULT_HANDOVER_ITEMS)])
        engine.start(handover, actor, payload={"property_company": name})
    return handover


def add_handover_item(actor, handover_id: int, *, kind: str, label: str) -> HandoverItem:
    label = _clean(label, 200)
    if kind not in HANDOVER_KINDS or not label:
        raise invalid({"label": _("Name the facility or document.")})
    with write_transaction():
        handover = _locked(Handover, actor, handover_id, "aftercare.manage")
        if handover.state != "draft":
            raise InvalidTransition(_("The checklist is closed once the property company has confirmed."))
        item = HandoverItem(handover=handover, position=len(handover.items) + 1, kind=kind, label=label)
        db.session.add(item)
        db.session.flush()
    return item


def mark_handed_over(actor, handover_id: int, item_id: int, *, note: str = "") -> HandoverItem:
    with write_transaction():
        handover = _locked(Handover, actor, handover_id, "aftercare.manage")
        if handover.state != "draft":
            raise InvalidTransition(_("The checklist is closed once the property company has confirmed."))
        item = next((i for i in handover.items if i.id == item_id), None)
        if item is None:
            raise NotFound(_("Not found."))
        item.done = True
        item.note = _clean(note, 1000)
        engine.record_event(handover, actor, "item_done", payload={"item_id": item.id, "label": item.label})
    return item


def _locked(model, actor, ident: int, action: str):
    obj = lock(model, ident)
    if obj is None or not permissions.can_see(actor, obj):
        raise NotFound(_("Not found."))
    permissions.require(actor, action, obj)
    return obj


def confirm_handover(actor, handover_id: int, version: int | None) -> Handover:
    handover = engine.fire(Handover, handover_id, "confirm", actor, version)
    return handover


def handover_context(handover: Handover, reference: str) -> dict:
    with force_locale("zh_Hans_CN"):
        return {
            "title": "老旧小区改造物业接管移交记录",
            "subtitle": handover.estate.name,
            "document_number": f"YJ-{handover.created_at:%Y}-{handover.id:05d}",
            "estate": {"name": handover.estate.name, "address": handover.estate.address,
                       "community": handover.estate.org.name},
            "property_company": handover.property_company,
            "checklist": [{"item": f"{'资料' if i.kind == 'document' else '设施'}：{i.label}",
                           "result": "pass" if i.done else "na", "notes": i.note} for i in handover.items],
            "signoffs": _handover_signoffs(handover),
            "verify_url": documents.verify_url(reference),
        }


def _handover_signoffs(handover: Handover) -> list[dict]:
    rows = []
    for entry in audit.timeline(handover):
        if entry.trigger == "confirm":
            rows.append({"name": entry.actor_name, "role": "物业服务企业（接管方）", "decision": "approve",
                         "organization": handover.property_company, "comment": "确认接管", "time": entry.created_at})
    return rows


def sign_handover(actor, handover_id: int, version: int | None) -> Handover:
    """The community committee signs the handover record (PDF) once the property company has
    confirmed; signing twice answers 409."""
    handover = get_record(Handover, actor, handover_id, "aftercare.view")
    if handover.state != "confirmed":
        raise InvalidTransition(_("This cannot be done while the item is in the state “%(state)s”.",
                                  state=handover.workflow.state_label(handover.state)))
    permissions.require(actor, "aftercare.manage", handover)
    reference = documents.new_reference()
    pdf = render_template_pdf(current_app.jinja_env, "pdf/handover_record.html", handover_context(handover, reference))
    pdf = documents.sign_with_org(pdf, handover.estate.org, reason="物业接管移交签署", field_name="community")
    with write_transaction():
        document = documents.store(pdf, "handover_record", ("handover", handover_id),
                                   filename=f"handover-record-{handover_id}.pdf",
                                   title=f"物业接管移交记录 {handover.estate.name}", reference=reference)
        handover = engine.fire(Handover, handover_id, "sign", actor, version, pdf=document)
    return handover


def stored(document_id: int | None) -> StoredDocument | None:
    return db.session.get(StoredDocument, document_id) if document_id is not None else None


# --- warranty repairs ---------------------------------------------------------------------------


def request_repair(actor, estate_id: int, *, title: str, description: str = "", building_id: int | None = None,
                   issue_id: int | None = None) -> WarrantyRequest:
    """A defect under the builder's warranty: sent to the builder, who must accept it within
    the deadline (WARRANTY_DAYS or the city's policy)."""
    title = _clean(title, 200)
    if not title:
        raise invalid({"title": _("Please give a short title.")})
    with write_transaction():
        estate = _estate(actor, estate_id, "aftercare.report_repair")
        building = None
        if building_id is not None:
            building = db.session.get(Building, building_id) if isinstance(building_id, int) else None
            if building is None or building.estate_id != estate.id:
                raise invalid({"building_id": _("Not a building of this estate.")})
        if issue_id is not None:
            issue = db.session.get(RenovationIssue, issue_id) if isinstance(issue_id, int) else None
            if issue is None or issue.estate_id != estate.id:
                raise invalid({"issue_id": _("No such renovation issue in this estate.")})
        request = WarrantyRequest(estate=estate, building=building, issue_id=issue_id, title=title,
                                  description=_clean(description, 5000), requested_by_id=actor.id,
                                  path=building.path if building is not None else estate.path)
        engine.start(request, actor, payload={"building_id": building_id, "issue_id": issue_id})
    return request


OPEN_REPAIR_STATES = ("submitted", "in_repair", "repaired")


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Overdue warranty repairs are referred to the street above the community, once, by "system"."""
    now = now or utcnow()
    overdue = select(WarrantyRequest.id).where(WarrantyRequest.state.in_(OPEN_REPAIR_STATES),
                                               WarrantyRequest.due_at < now)
    return overdue_loop(overdue, _escalate_repair, ("warranty_escalated",), now)


def _escalate_repair(request_id: int, now: datetime) -> str | None:
    with write_transaction():
        repair = lock(WarrantyRequest, request_id)
        if repair is None or repair.state not in OPEN_REPAIR_STATES or repair.due_at is None or repair.due_at >= now:
            return None
        street = repair.estate.org.parent
        if street is None or repair.responsible_org_id == street.id:
            return None
        repair.responsible_org_id = street.id
        engine.record_event(repair, engine.SYSTEM, "overdue_escalation", payload={"to_org": street.id},
                            org_id=street.id)
    return "warranty_escalated"


def fire_repair(actor, request_id: int, trigger: str, version: int | None, **data) -> WarrantyRequest:
    return engine.fire(WarrantyRequest, request_id, trigger, actor, version, **data)


# --- the maintenance fund --------------------------------------------------------------------------


def parse_amount(raw, field: str = "amount") -> Decimal:
    """Exact yuan with at most two decimals, more than zero: anything else is a 422."""
    if isinstance(raw, bool) or raw is None or isinstance(raw, float):
        raise invalid({field: _("Give the amount in yuan, e.g. 12500.00.")})
    try:
        amount = Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise invalid({field: _("Give the amount in yuan, e.g. 12500.00.")}) from None
    if not amount.is_finite():
        raise invalid({field: _("Give the amount in yuan, e.g. 12500.00.")})
    if amount <= 0:
        raise invalid({field: _("The amount must be more than zero.")})
    if amount.as_tuple().exponent < -2 or amount > MAX_AMOUNT:
        raise invalid({field: _("Give the amount in yuan with at most two decimals.")})
    return amount.quantize(Decimal("0.01"))


def propose_fund_use(actor, estate_id: int, *, title: str, purpose: str, amount) -> FundUse:
    title = _clean(title, 200)
    value = parse_amount(amount)
    if not title:
        raise invalid({"title": _("Please give a short title.")})
    with write_transaction():
        estate = _estate(actor, estate_id, "aftercare.manage")
        fund_use = FundUse(estate=estate, title=title, purpose=_clean(purpose, 5000), amount=value,
                           proposed_by_id=actor.id, path=estate.path)
        engine.start(fund_use, actor, payload={"amount": str(value)})
    return fund_use


def fire_fund_use(actor, fund_use_id: int, trigger: str, version: int | None, **data) -> FundUse:
    return engine.fire(FundUse, fund_use_id, trigger, actor, version, **data)


def fund_notice(fund_use: FundUse):
    return notices.latest_notice(FUND_TARGET, fund_use.id)


def record_spending(actor, fund_use_id: int, *, amount, payee: str, spent_on, note: str = "") -> FundSpending:
    """A line of the ledger: only after the notice period, never beyond the amount decided."""
    value = parse_amount(amount)
    payee = _clean(payee, 200)
    errors = {}
    if not payee:
        errors["payee"] = _("Name who was paid.")
    try:
        day = spent_on if isinstance(spent_on, date) else date.fromisoformat(str(spent_on or "").strip())
    except ValueError:
        day = None
        errors["spent_on"] = _("Give a date as YYYY-MM-DD.")
    if day is not None and day > datetime.now(LOCAL).date():
        errors["spent_on"] = _("The date cannot be in the future.")
    if errors:
        raise invalid(errors)
    with write_transaction():
        fund_use = _locked(FundUse, actor, fund_use_id, "aftercare.manage")
        if fund_use.state != "on_notice":
            raise InvalidTransition(_("Spending is recorded once the owners have approved the use."))
        published = fund_notice(fund_use)
        if published is None or published.is_running():
            raise InvalidTransition(_("Spending is recorded once the public notice period is over."))
        if published.open_objections:
            raise InvalidTransition(_("Every objection to the notice must be answered first."))
        if value > fund_use.remaining:
            raise ValidationError(
                _("This would spend more than the amount decided: %(remaining)s yuan remain.",
                  remaining=f"{fund_use.remaining:,.2f}"), fields={"amount": _("More than remains.")})
        line = FundSpending(fund_use=fund_use, amount=value, spent_on=day, payee=payee, note=_clean(note, 2000),
                            recorded_by_id=actor.id)
        db.session.add(line)
        db.session.flush()
        engine.record_event(fund_use, actor, "spend", payload={"spending_id": line.id, "amount": str(value),
                                                               "payee": payee, "spent_on": day.isoformat()})
    return line


# --- the fund use as a target of the owners' vote and the public notice ---------------------------


def _fund_target(ident: int) -> Target | None:
    fund_use = db.session.get(FundUse, ident)
    if fund_use is None:
        return None
    return Target(FUND_TARGET, fund_use.id, fund_use, fund_use.estate_id, fund_use.path,
                  f"{fund_use.title}（{fund_use.amount:,.2f}元）", SubjectKind.USE_MAINTENANCE_FUNDS)


def _open_fund_vote(actor, fund_use_id: int, options: voting.VoteOptions, version: int | None) -> voting.Vote:
    data = {"scope_kind": options.scope_kind, "scope_id": options.scope_id, "rule": options.rule_name,
            "vote_title": options.title, "closes_on": options.closes_on}
    with write_transaction():
        engine.fire(FundUse, fund_use_id, "open_vote", actor, version,
                    **{key: value for key, value in data.items() if value is not None})
        return voting.latest_vote(FUND_TARGET, fund_use_id)


def _fund_vote_closed(vote: voting.Vote, actor, on_failure: str, reason: str) -> None:
    fund_use = db.session.get(FundUse, vote.target_id)
    if fund_use is None or fund_use.state != "voting":
        return
    engine.fire(FundUse, fund_use.id, "vote_passed" if vote.passed else "vote_failed", actor, None,
                reason=voting.failure_reason(vote) if not vote.passed else "")


def _fund_visible(actor, fund_use: FundUse) -> bool:
    return permissions.can(actor, "aftercare.view", fund_use)


register_target(FUND_TARGET, _fund_target, label=_l("Maintenance fund use"), open_vote=_open_fund_vote,
                vote_closed=_fund_vote_closed, visible=_fund_visible)
