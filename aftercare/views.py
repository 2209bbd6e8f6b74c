"""Pages of management after acceptance: an estate's overview, patrol routes and the walk
on a phone, the handover, warranty repairs and the maintenance fund. Thin over
aftercare.services."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.db import utcnow
from core.errors import DomainError, NotFound, NotPermitted
from core.extensions import db
from core.web import flash_error
from documents import services as documents
from orgs import permissions
from procedures import voting
from rules import categories
from rules.policy import current_policy
from workflow import timeline
from aftercare import services
from aftercare.models import (
    FUND_TARGET,
    HANDOVER_KINDS,
    FundUse,
    Handover,
    PatrolPlan,
    WarrantyRequest,
)

bp = Blueprint("aftercare", __name__, url_prefix="/aftercare")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _refused(err: DomainError, url: str):
    """Say why on the page the form came from (404/403 go to the error page)."""
    if isinstance(err, (NotFound, NotPermitted)):
        raise err
    db.session.rollback()
    for message in (err.details.get("fields") or {}).values():
        flash(message, "error")
    return render_template("errors/error.html", status=err.status, message=err.message, details=err.details,
                           back=url), err.status


@bp.route("/")
@login_required
def estate_list():
    return render_template("aftercare/list.html", estates=services.visible_estates(current_user))


@bp.route("/estates/<int:estate_id>")
@login_required
def estate_page(estate_id: int):
    estate = services.estate_for(current_user, estate_id)
    return render_template("aftercare/estate.html", estate=estate, now=utcnow(), **services.overview(estate))


# --- patrols -----------------------------------------------------------------------------


@bp.route("/estates/<int:estate_id>/patrols", methods=["POST"])
@login_required
def create_plan(estate_id: int):
    back = url_for("aftercare.estate_page", estate_id=estate_id)
    try:
        plan = services.create_patrol_plan(current_user, estate_id, title=request.form.get("title", ""),
                                           every_days=_int(request.form.get("every_days")) or 7)
    except DomainError as err:
        return _refused(err, back)
    return redirect(url_for("aftercare.plan_page", plan_id=plan.id))


@bp.route("/patrols/<int:plan_id>")
@login_required
def plan_page(plan_id: int):
    plan = services.get_record(PatrolPlan, current_user, plan_id)
    return render_template("aftercare/plan.html", plan=plan, rounds=services.rounds_of(plan),
                           manage=permissions.can(current_user, "aftercare.manage", plan),
                           may_walk=permissions.can(current_user, "aftercare.patrol", plan))


@bp.route("/patrols/<int:plan_id>/points", methods=["POST"])
@login_required
def add_point(plan_id: int):
    back = url_for("aftercare.plan_page", plan_id=plan_id)
    try:
        services.add_patrol_point(current_user, plan_id, label=request.form.get("label", ""),
                                  what_to_check=request.form.get("what_to_check", ""),
                                  building_id=_int(request.form.get("building_id")))
    except DomainError as err:
        return _refused(err, back)
    flash(_("Point added to the route."), "info")
    return redirect(back)


@bp.route("/patrols/<int:plan_id>/rounds", methods=["POST"])
@login_required
def start_round(plan_id: int):
    try:
        patrol = services.start_round(current_user, plan_id)
    except DomainError as err:
        return _refused(err, url_for("aftercare.plan_page", plan_id=plan_id))
    return redirect(url_for("aftercare.round_page", round_id=patrol.id))


@bp.route("/rounds/<int:round_id>")
@login_required
def round_page(round_id: int):
    patrol = services.get_round(current_user, round_id)
    return render_template("aftercare/round.html", patrol=patrol, point=services.next_point(patrol),
                           mine=patrol.walker_id == current_user.id, categories=categories.CATEGORIES,
                           subcategories=current_policy().subcategories,
                           may_finish=patrol.workflow.allowed(patrol, current_user, "finish"))


@bp.route("/rounds/<int:round_id>/checks", methods=["POST"])
@login_required
def check_point(round_id: int):
    back = url_for("aftercare.round_page", round_id=round_id)
    form = request.form
    subcategory = form.get("subcategory", "")
    sub = current_policy().subcategory(subcategory)
    try:
        check = services.check_point(current_user, round_id, _int(form.get("point_id")) or 0,
                                     result=form.get("result", ""), note=form.get("note", ""),
                                     category=sub.category if sub else "", subcategory=subcategory)
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db.session.rollback()
        flash_error(err)
        return redirect(back)
    if check.issue_id:
        flash(_("Problem recorded as issue #%(id)d.", id=check.issue_id), "info")
    return redirect(back)


@bp.route("/rounds/<int:round_id>/finish", methods=["POST"])
@login_required
def finish_round(round_id: int):
    back = url_for("aftercare.round_page", round_id=round_id)
    try:
        services.finish_round(current_user, round_id, _int(request.form.get("version")))
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db.session.rollback()
        flash_error(err)
        return redirect(back)
    flash(_("Patrol finished. Thank you."), "info")
    return redirect(back)


# --- handover ------------------------------------------------------------------------------


@bp.route("/estates/<int:estate_id>/handover", methods=["POST"])
@login_required
def open_handover(estate_id: int):
    try:
        handover = services.open_handover(current_user, estate_id,
                                          property_company=request.form.get("property_company", ""))
    except DomainError as err:
        return _refused(err, url_for("aftercare.estate_page", estate_id=estate_id))
    return redirect(url_for("aftercare.handover_page", handover_id=handover.id))


@bp.route("/handovers/<int:handover_id>")
@login_required
def handover_page(handover_id: int, status: int = 200):
    handover = services.get_record(Handover, current_user, handover_id)
    return render_template("aftercare/handover.html", handover=handover, kinds=HANDOVER_KINDS,
                           manage=permissions.can(current_user, "aftercare.manage", handover),
                           actions=handover.workflow.available(handover, current_user),
                           document=services.stored(handover.record_document_id),
                           timeline=timeline.rows(handover)), status


@bp.route("/handovers/<int:handover_id>/items", methods=["POST"])
@login_required
def handover_item(handover_id: int):
    back = url_for("aftercare.handover_page", handover_id=handover_id)
    try:
        item_id = _int(request.form.get("item_id"))
        if item_id is not None:
            services.mark_handed_over(current_user, handover_id, item_id, note=request.form.get("note", ""))
        else:
            services.add_handover_item(current_user, handover_id, kind=request.form.get("kind", ""),
                                       label=request.form.get("label", ""))
    except DomainError as err:
        return _refused(err, back)
    return redirect(back)


@bp.route("/handovers/<int:handover_id>/transitions", methods=["POST"])
@login_required
def handover_transition(handover_id: int):
    trigger, version = request.form.get("trigger", ""), _int(request.form.get("version"))
    try:
        if trigger == "sign":
            services.sign_handover(current_user, handover_id, version)
        else:
            services.confirm_handover(current_user, handover_id, version)
    except DomainError as err:
        return _refused(err, url_for("aftercare.handover_page", handover_id=handover_id))
    return redirect(url_for("aftercare.handover_page", handover_id=handover_id))


@bp.route("/handovers/<int:handover_id>/record.pdf")
@login_required
def handover_pdf(handover_id: int):
    handover = services.get_record(Handover, current_user, handover_id)
    return _pdf(services.stored(handover.record_document_id))


def _pdf(document):
    if document is None:
        raise NotFound(_("Not found."))
    return Response(documents.document_bytes(document), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{document.filename}"',
                             "ETag": f'"{document.sha256}"'})


# --- warranty ---------------------------------------------------------------------------------


@bp.route("/estates/<int:estate_id>/repairs", methods=["POST"])
@login_required
def request_repair(estate_id: int):
    try:
        repair = services.request_repair(current_user, estate_id, title=request.form.get("title", ""),
                                         description=request.form.get("description", ""),
                                         building_id=_int(request.form.get("building_id")),
                                         issue_id=_int(request.form.get("issue_id")))
    except DomainError as err:
        return _refused(err, url_for("aftercare.estate_page", estate_id=estate_id))
    flash(_("The repair request is sent to the builder."), "info")
    return redirect(url_for("aftercare.repair_page", request_id=repair.id))


@bp.route("/repairs/<int:request_id>")
@login_required
def repair_page(request_id: int):
    repair = services.get_record(WarrantyRequest, current_user, request_id)
    return render_template("aftercare/repair.html", repair=repair, now=utcnow(),
                           actions=repair.workflow.available(repair, current_user), timeline=timeline.rows(repair))


@bp.route("/repairs/<int:request_id>/transitions", methods=["POST"])
@login_required
def repair_transition(request_id: int):
    try:
        services.fire_repair(current_user, request_id, request.form.get("trigger", ""),
                             _int(request.form.get("version")), reason=request.form.get("reason", ""))
    except DomainError as err:
        return _refused(err, url_for("aftercare.repair_page", request_id=request_id))
    return redirect(url_for("aftercare.repair_page", request_id=request_id))


# --- maintenance fund ---------------------------------------------------------------------------


@bp.route("/estates/<int:estate_id>/funds", methods=["POST"])
@login_required
def propose_fund_use(estate_id: int):
    try:
        fund_use = services.propose_fund_use(current_user, estate_id, title=request.form.get("title", ""),
                                             purpose=request.form.get("purpose", ""),
                                             amount=request.form.get("amount", ""))
    except DomainError as err:
        return _refused(err, url_for("aftercare.estate_page", estate_id=estate_id))
    return redirect(url_for("aftercare.fund_page", fund_use_id=fund_use.id))


@bp.route("/funds/<int:fund_use_id>")
@login_required
def fund_page(fund_use_id: int):
    fund_use = services.get_record(FundUse, current_user, fund_use_id)
    return render_template("aftercare/fund.html", fund_use=fund_use, notice=services.fund_notice(fund_use),
                           votes=voting.votes_for(FUND_TARGET, fund_use.id), target_type=FUND_TARGET,
                           manage=permissions.can(current_user, "aftercare.manage", fund_use),
                           actions=[t for t in fund_use.workflow.available(fund_use, current_user)
                                    if t.trigger == "complete"],
                           timeline=timeline.rows(fund_use), now=utcnow())


@bp.route("/funds/<int:fund_use_id>/spending", methods=["POST"])
@login_required
def record_spending(fund_use_id: int):
    back = url_for("aftercare.fund_page", fund_use_id=fund_use_id)
    form = request.form
    try:
        services.record_spending(current_user, fund_use_id, amount=form.get("amount", ""),
                                 payee=form.get("payee", ""), spent_on=form.get("spent_on", ""),
                                 note=form.get("note", ""))
    except DomainError as err:
        return _refused(err, back)
    flash(_("Spending recorded in the ledger."), "info")
    return redirect(back)


@bp.route("/funds/<int:fund_use_id>/transitions", methods=["POST"])
@login_required
def fund_transition(fund_use_id: int):
    try:
        services.fire_fund_use(current_user, fund_use_id, request.form.get("trigger", ""),
                               _int(request.form.get("version")), reason=request.form.get("reason", ""))
    except DomainError as err:
        return _refused(err, url_for("aftercare.fund_page", fund_use_id=fund_use_id))
    return redirect(url_for("aftercare.fund_page", fund_use_id=fund_use_id))
