"""Pages of the estate plan and the demand campaigns. Thin: plans.services does the work.

Public (no login): the index of published plans and campaigns, a published plan
(residents' view: no personal data), a campaign's tally and, for a logged-in
resident, the fate of their own demands. Staff: the fuller plan page with its forms.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from core.errors import DomainError, NotFound, NotPermitted
from core.extensions import db
from core.web import flash_error
from orgs import permissions
from orgs.roles import LEVEL_LABELS, LEVELS
from rules.categories import CATEGORIES
from rules.policy import current_policy
from issues.renovation import WORKFLOW as ISSUE_WORKFLOW
from plans import sections, services
from plans.models import FATES, FUNDING_PARTS, ITEM_STATES, PLAN_WORKFLOW, DemandCampaign, PlanRecord

bp = Blueprint("plans", __name__, url_prefix="/plans")


class CsrfForm(FlaskForm):
    """Every form on these pages posts through this (CSRF); the services check the fields."""


def _page_arg() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def _version() -> int | None:
    try:
        return int(request.form["version"])
    except (KeyError, ValueError):
        return None


def _texts(labels: dict) -> dict[str, str]:
    """Lazy labels translated once per page: a page repeats them for each of hundreds of items."""
    return {code: str(label) for code, label in labels.items()}


def _labels() -> dict:
    return {
        "item_states": _texts(ITEM_STATES), "funding_parts": _texts(FUNDING_PARTS), "categories": _texts(CATEGORIES),
        "level_labels": _texts(LEVEL_LABELS), "fates": _texts(FATES), "plan_states": PLAN_WORKFLOW.states,
    }


def _plan_context(record: PlanRecord, public: bool) -> dict:
    rows = services.items(record)
    today = services.local_today()
    visible_issues = set() if public else {
        row.issue_id for row in rows
        if row.issue_id is not None and permissions.can(current_user, "issue.view", services.Place(row.issue_path))
    }
    return dict(
        record=record, plan=record.plan, estate=record.estate, items=rows, visible_issues=visible_issues,
        issue_states=_texts({name: state.public_label or state.label for name, state in ISSUE_WORKFLOW.states.items()}),
        summary=services.summarise(rows, today), today=today,
        shares=services.funding_shares(record),
        bulletins=services.bulletins(record, _page_arg()),
        notices=services.notices(record), votes=services.votes(record),
        campaigns=services.campaigns(record.estate_id, limit=10),
        sections=sections.render_all(record.plan, current_user, public),
        public=public, **_labels(),
    )


# --- public pages -------------------------------------------------------------------------


@bp.route("/")
def index():
    staff = services.staff_records(current_user)
    return render_template(
        "plans/index.html",
        published=services.published_records(), staff=staff,
        campaigns=services.campaigns(limit=50),
        estates=services.manageable_estates(current_user),
        campaign_estates=services.manageable_estates(current_user, "campaign.manage"),
        this_year=services.local_today().year, form=CsrfForm(), **_labels(),
    )


@bp.route("/estates/<int:estate_id>")
def estate_plan(estate_id: int):
    record = services.latest_published(estate_id)
    if record is None:
        raise NotFound(_("Not found."))
    return redirect(url_for("plans.public_plan", record_id=record.id))


@bp.route("/<int:record_id>")
def public_plan(record_id: int):
    record = services.public_record(record_id)
    return render_template("plans/public.html", staff_link=permissions.can(current_user, "plan.view", record),
                           **_plan_context(record, public=True))


@bp.route("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int):
    return _render_campaign(services.get_campaign(campaign_id))


def _render_campaign(item: DemandCampaign, status: int = 200):
    return render_template(
        "plans/campaign.html", campaign=item, tally=services.tally(item),
        mine=services.my_demands(current_user, item),
        staff_rows=services.campaign_demands_for_staff(current_user, item),
        may_link=permissions.can(current_user, "campaign.link", item) and item.state == "collecting",
        may_close=_may_close(item), subcategory_label=current_policy().subcategory_label,
        plan=services.latest_published(item.estate_id), form=CsrfForm(), today=services.local_today(),
        **_labels(),
    ), status


def _may_close(item: DemandCampaign) -> bool:
    return item.workflow.allowed(item, current_user, "close") if current_user.is_authenticated else False


# --- staff pages --------------------------------------------------------------------------


@bp.route("/<int:record_id>/manage")
@login_required
def manage(record_id: int):
    return _render_manage(services.get_record(current_user, record_id))


def _render_manage(record: PlanRecord, status: int = 200):
    context = _plan_context(record, public=False)
    return render_template(
        "plans/manage.html", form=CsrfForm(),
        may_manage=permissions.can(current_user, "plan.manage", record),
        may_post=permissions.can(current_user, "plan.bulletin", record),
        actions=PLAN_WORKFLOW.available(record, current_user), levels=LEVELS,
        changes=services.recent_changes(record), **context,
    ), status


def _act(record_id: int, work, done_message: str, anchor: str = ""):
    """Run one write for the staff page: CSRF, then the service; a domain error shows
    on the page again (404/403 answer as such)."""
    record = services.get_record(current_user, record_id)
    if not CsrfForm().validate_on_submit():
        flash(_("The form has expired or was not sent from this site. Reload the page and try again."), "error")
        return _render_manage(record, 400)
    try:
        work(record)
    except DomainError as err:
        if isinstance(err, (NotFound, NotPermitted)):
            raise
        db.session.rollback()
        flash_error(err)
        return _render_manage(services.get_record(current_user, record_id), err.status)
    flash(done_message, "info")
    return redirect(url_for("plans.manage", record_id=record_id, _anchor=anchor))


@bp.route("/new", methods=["POST"])
@login_required
def create():
    if not CsrfForm().validate_on_submit():
        flash(_("The form has expired or was not sent from this site. Reload the page and try again."), "error")
        return redirect(url_for("plans.index"))
    try:
        record = services.create_plan(current_user, estate_id=request.form.get("estate_id"),
                                      year=request.form.get("year"), title=request.form.get("title", ""),
                                      summary=request.form.get("summary", ""))
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db.session.rollback()
        flash_error(err)
        return redirect(url_for("plans.index"))
    return redirect(url_for("plans.manage", record_id=record.id))


@bp.route("/<int:record_id>/budget", methods=["POST"])
@login_required
def budget(record_id: int):
    form = request.form
    return _act(record_id, lambda record: services.set_budget(
        current_user, record.id, _version(), total=form.get("total"), government=form.get("government"),
        owners=form.get("owners"), social=form.get("social")), _("The budget has been saved."), "budget")


ITEM_FIELDS = ("title", "category", "state", "progress", "deadline", "level", "budget", "note", "issue_id")


def _item_data() -> dict:
    return {name: request.form[name] for name in ITEM_FIELDS if name in request.form}


@bp.route("/<int:record_id>/items", methods=["POST"])
@login_required
def add_item(record_id: int):
    return _act(record_id, lambda record: services.add_item(current_user, record.id, _version(), _item_data()),
                _("The item has been added."), "items")


@bp.route("/<int:record_id>/items/<int:item_id>", methods=["POST"])
@login_required
def update_item(record_id: int, item_id: int):
    return _act(record_id, lambda record: services.update_item(current_user, record.id, item_id, _version(),
                                                               _item_data()),
                _("The item has been updated."), f"item-{item_id}")


@bp.route("/<int:record_id>/import", methods=["POST"])
@login_required
def import_issues(record_id: int):
    return _act(record_id, lambda record: services.import_plan_issues(current_user, record.id, _version()),
                _("The plan's renovation issues are listed as items."), "items")


@bp.route("/<int:record_id>/bulletins", methods=["POST"])
@login_required
def post_bulletin(record_id: int):
    form = request.form
    return _act(record_id, lambda record: services.post_bulletin(
        current_user, record.id, title=form.get("title"), body=form.get("body", ""), item_id=form.get("item_id")),
        _("The bulletin has been posted."), "bulletins")


@bp.route("/<int:record_id>/transitions", methods=["POST"])
@login_required
def transition(record_id: int):
    trigger = request.form.get("trigger", "")
    return _act(record_id, lambda record: services.fire(current_user, record.id, trigger, _version(),
                                                        request.form.get("reason", "")),
                _("Done: %(action)s.", action=PLAN_WORKFLOW.transition_label(trigger)))


# --- campaigns (staff) --------------------------------------------------------------------


@bp.route("/campaigns/new", methods=["POST"])
@login_required
def new_campaign():
    if not CsrfForm().validate_on_submit():
        flash(_("The form has expired or was not sent from this site. Reload the page and try again."), "error")
        return redirect(url_for("plans.index"))
    form = request.form
    try:
        item = services.create_campaign(current_user, estate_id=form.get("estate_id"), title=form.get("title"),
                                        description=form.get("description", ""), opens_on=form.get("opens_on"),
                                        closes_on=form.get("closes_on"))
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db.session.rollback()
        flash_error(err)
        return redirect(url_for("plans.index"))
    flash(_("The campaign is open."), "info")
    return redirect(url_for("plans.campaign", campaign_id=item.id))


def _campaign_act(campaign_id: int, work, done_message: str):
    item = services.get_campaign(campaign_id)
    if not permissions.can_see(current_user, item):
        raise NotFound(_("Not found."))
    if not CsrfForm().validate_on_submit():
        flash(_("The form has expired or was not sent from this site. Reload the page and try again."), "error")
        return _render_campaign(item, 400)
    try:
        work(item)
    except DomainError as err:
        if isinstance(err, (NotFound, NotPermitted)):
            raise
        db.session.rollback()
        flash_error(err)
        return _render_campaign(services.get_campaign(campaign_id), err.status)
    flash(done_message, "info")
    return redirect(url_for("plans.campaign", campaign_id=campaign_id))


@bp.route("/campaigns/<int:campaign_id>/demands", methods=["POST"])
@login_required
def link_demand(campaign_id: int):
    return _campaign_act(campaign_id, lambda item: services.link_demand(current_user, item.id,
                                                                        request.form.get("issue_id")),
                         _("The demand is linked to the campaign."))


@bp.route("/campaigns/<int:campaign_id>/collect", methods=["POST"])
@login_required
def collect(campaign_id: int):
    return _campaign_act(campaign_id, lambda item: services.collect(current_user, item.id),
                         _("The demands raised during the campaign are linked."))


@bp.route("/campaigns/<int:campaign_id>/close", methods=["POST"])
@login_required
def close_campaign(campaign_id: int):
    return _campaign_act(campaign_id, lambda item: services.close_campaign(current_user, item.id, _version()),
                         _("The campaign is closed."))
