"""Pages for tasks sent down the levels: the list, the launch form, and a dispatch
with its progress tree and the actions of the viewer's own assignments. Thin: the
work is done by dispatch.services."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.db import utcnow
from core.errors import DomainError, NotFound, NotPermitted
from core.extensions import db
from core.web import flash_error
from dispatch import services
from workflow import timeline
from dispatch.models import KINDS, WORKFLOW, Dispatch, DispatchAssignment, UnitLine, unit_lines
from workflow.engine import Transition
from workflow.timeline import TimelineRow

bp = Blueprint("dispatch", __name__, url_prefix="/dispatches")
PER_PAGE = 30


class LaunchForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("What is to be done"), validators=[Length(max=5000)])
    kind = SelectField(_l("Kind of task"), choices=[], validators=[DataRequired()])
    origin = SelectField(_l("Launched by"), choices=[], validators=[DataRequired()])
    estate = SelectField(_l("Estate"), choices=[], validators=[Optional()])
    issue = IntegerField(_l("Renovation issue number (optional)"), validators=[Optional(), NumberRange(min=1)])


class ActionForm(FlaskForm):
    trigger = HiddenField(validators=[DataRequired()])
    version = IntegerField(validators=[DataRequired()])
    reached = StringField(validators=[Optional(), Length(max=12)])
    reason = TextAreaField(validators=[Optional(), Length(max=2000)])


def _page_arg() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


@bp.route("/")
@login_required
def dispatch_list():
    page = _page_arg()
    rows, total = services.list_dispatches(current_user, page=page, per_page=PER_PAGE)
    return render_template(
        "dispatch/list.html", rows=rows, total=total, page=page,
        pages=max(1, (total + PER_PAGE - 1) // PER_PAGE), awaiting=services.awaiting(current_user),
        can_launch=bool(services.launch_origins(current_user)), states=WORKFLOW.states, now=utcnow(),
    )


def _fill_launch_form(form: LaunchForm, origins) -> None:
    form.kind.choices = [(code, str(label)) for code, label in KINDS.items()]
    form.origin.choices = [(str(node.id), node.name) for node in origins]
    form.estate.choices = [("", _("Every place under the launching org unit"))] + [
        (str(estate.id), estate.name) for estate in services.launch_estates(current_user)
    ]


def _show_field_errors(form: FlaskForm, err: DomainError) -> None:
    for name, message in (err.details.get("fields") or {}).items():
        if hasattr(form, name):
            getattr(form, name).errors = [message]


@bp.route("/new", methods=["GET", "POST"])
@login_required
def launch():
    origins = services.launch_origins(current_user)
    if not origins:
        raise NotPermitted(_("You are not permitted to do this."))
    form = LaunchForm()
    _fill_launch_form(form, origins)
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("Some information is missing or invalid."), "error")
            return render_template("dispatch/launch.html", form=form), 422
        try:
            dispatch = services.launch(
                current_user, title=form.title.data, body=form.body.data, kind=form.kind.data,
                origin_org_id=int(form.origin.data), estate_id=int(form.estate.data) if form.estate.data else None,
                issue_id=form.issue.data,
            )
        except DomainError as err:
            if isinstance(err, (NotFound, NotPermitted)):
                raise
            db.session.rollback()
            flash_error(err)
            _show_field_errors(form, err)
            status = err.status
        else:
            flash(_("The task has been sent down."), "info")
            return redirect(url_for("dispatch.dispatch_page", dispatch_id=dispatch.id))
    return render_template("dispatch/launch.html", form=form), status


@dataclass
class MyPart:
    """One of the viewer's own assignments with what they may do on it."""

    assignment: DispatchAssignment
    actions: list[Transition]
    lines: list[UnitLine]
    recorded: dict[int, int]
    timeline: list[TimelineRow]

    @property
    def households(self) -> int:
        return sum(line.households for line in self.lines)


def _my_part(dispatch: Dispatch, assignment: DispatchAssignment) -> MyPart:
    actions = services.available(current_user, assignment)
    records = any(t.trigger == "complete" for t in actions)
    recorded = services.recorded_consents(assignment)
    return MyPart(
        assignment=assignment,
        actions=actions,
        lines=unit_lines(assignment.org, dispatch.estate_id) if records else [],
        recorded=recorded,
        timeline=timeline.rows(assignment),
    )


def _render(dispatch: Dispatch, status: int = 200):
    now = utcnow()
    tree = services.progress(current_user, dispatch, now)
    mine = [_my_part(dispatch, a) for a in services.my_assignments(current_user, dispatch)]
    shown = {part.assignment.id for part in mine}
    return render_template(
        "dispatch/dispatch.html",
        dispatch=dispatch,
        tree=tree,
        my_org_ids={m.org_id for m in current_user.memberships},
        # Open parts below the viewer's own that the viewer may close for their level.
        closable={b.assignment.id for b in services.walk(tree) if b.assignment.is_open
                  and b.assignment.id not in shown and WORKFLOW.allowed(b.assignment, current_user, "close_for")},
        units=services.consent_by_unit(current_user, dispatch),
        mine=mine,
        states=WORKFLOW.states,
        now=now,
    ), status


@bp.route("/<int:dispatch_id>")
@login_required
def dispatch_page(dispatch_id: int):
    return _render(services.get_dispatch(current_user, dispatch_id))


def _action_data(form: ActionForm) -> dict:
    data: dict = {"reason": (form.reason.data or "").strip()}
    if form.reached.data not in (None, ""):
        data["reached"] = form.reached.data
    consents = {
        key.removeprefix("consent-"): value for key, value in request.form.items() if key.startswith("consent-")
    }
    if consents:
        data["consents"] = consents
    return data


@bp.route("/<int:dispatch_id>/assignments/<int:assignment_id>/transitions", methods=["POST"])
@login_required
def transition(dispatch_id: int, assignment_id: int):
    dispatch = services.get_dispatch(current_user, dispatch_id)
    assignment = services.get_assignment(dispatch, assignment_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("Some information is missing or invalid."), "error")
        return _render(dispatch, 422)
    try:
        services.fire_assignment(current_user, assignment.id, form.trigger.data, form.version.data,
                                 **_action_data(form))
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db.session.rollback()
        flash_error(err)
        return _render(services.get_dispatch(current_user, dispatch_id), err.status)
    flash(_("Done: %(action)s.", action=WORKFLOW.transition_label(form.trigger.data)), "info")
    return redirect(url_for("dispatch.dispatch_page", dispatch_id=dispatch_id, _anchor=f"assignment-{assignment_id}"))
