"""Pages of the standing task force: the list, a task force with its members and meetings,
a meeting with attendance, minutes, approvals, signing and action items, and the iCal feed.
Thin: taskforce.services does the work."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.db import utcnow
from core.errors import DomainError, NotFound, NotPermitted, ValidationError
from core.extensions import db
from core.web import flash_error
from documents import services as documents
from orgs import permissions
from rules import categories
from rules.policy import current_policy
from workflow import timeline
from taskforce import services
from taskforce.models import ACTION_KINDS, MEETING_WORKFLOW, PARTIES

bp = Blueprint("taskforce", __name__, url_prefix="/taskforce")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _local_datetime(raw: str) -> datetime:
    try:
        return datetime.fromisoformat((raw or "").strip())
    except ValueError:
        raise ValidationError(_("Some information is missing or invalid."),
                              fields={"starts_at": _("Give a date and time.")}) from None


@bp.route("/")
@login_required
def task_force_list():
    return render_template("taskforce/list.html", task_forces=services.visible_task_forces(current_user),
                           estates=services.estates_without_task_force(current_user))


@bp.route("/", methods=["POST"])
@login_required
def set_up():
    try:
        task_force = services.set_up(current_user, _int(request.form.get("estate_id")) or 0,
                                     request.form.get("name", ""))
    except DomainError as err:
        return _error_page(err, url_for("taskforce.task_force_list"))
    flash(_("The task force is set up: add its members."), "info")
    return redirect(url_for("taskforce.task_force_page", task_force_id=task_force.id))


def _error_page(err: DomainError, back_url: str):
    if isinstance(err, (NotFound, NotPermitted)):
        raise err
    db.session.rollback()
    return render_template("errors/error.html", status=err.status, message=err.message,
                           details=err.details), err.status


@bp.route("/<int:task_force_id>")
@login_required
def task_force_page(task_force_id: int):
    task_force = services.get_task_force(current_user, task_force_id)
    manage = permissions.can(current_user, "taskforce.manage", task_force)
    return render_template(
        "taskforce/task_force.html", task_force=task_force, meetings=services.meetings_of(task_force),
        parties=PARTIES, manage=manage, people=services.people_to_add(current_user, task_force) if manage else [],
        states=MEETING_WORKFLOW.states, now=utcnow(), timeline=timeline.rows(task_force),
        feed_url=url_for("taskforce.feed", token=task_force.feed_token, _external=True),
    )


@bp.route("/<int:task_force_id>/members", methods=["POST"])
@login_required
def add_member(task_force_id: int):
    back = url_for("taskforce.task_force_page", task_force_id=task_force_id)
    try:
        services.add_member(current_user, task_force_id, person_id=request.form.get("person_id"),
                            party=request.form.get("party", ""), duty=request.form.get("duty", ""))
    except DomainError as err:
        return _error_page(err, back)
    flash(_("Member added."), "info")
    return redirect(back)


@bp.route("/<int:task_force_id>/members/<int:member_id>/leave", methods=["POST"])
@login_required
def remove_member(task_force_id: int, member_id: int):
    services.remove_member(current_user, task_force_id, member_id)
    flash(_("The member has left the task force."), "info")
    return redirect(url_for("taskforce.task_force_page", task_force_id=task_force_id))


@bp.route("/<int:task_force_id>/meetings", methods=["POST"])
@login_required
def schedule(task_force_id: int):
    back = url_for("taskforce.task_force_page", task_force_id=task_force_id)
    form = request.form
    try:
        plan = services.Schedule(
            title=form.get("title", ""), starts_at=_local_datetime(form.get("starts_at", "")),
            minutes_long=_int(form.get("minutes_long")) or 90, location=form.get("location", ""),
            every_days=_int(form.get("every_days")) or 0, count=_int(form.get("count")) or 1)
        meetings = services.schedule_meetings(current_user, task_force_id, plan)
    except DomainError as err:
        return _error_page(err, back)
    flash(_("%(n)d meetings scheduled.", n=len(meetings)), "info")
    return redirect(back)


@bp.route("/feed/<token>.ics")
def feed(token: str):
    """The meeting calendar for calendar apps: the address itself is the secret."""
    task_force = services.task_force_by_feed(token)
    return Response(services.ical(task_force, request.host), mimetype="text/calendar",
                    headers={"Content-Disposition": f'inline; filename="taskforce-{task_force.id}.ics"',
                             "Cache-Control": "private, max-age=300"})


@bp.route("/meetings/<int:meeting_id>")
@login_required
def meeting_page(meeting_id: int):
    return _render_meeting(services.get_meeting(current_user, meeting_id))


def _render_meeting(meeting, status: int = 200):
    manage = permissions.can(current_user, "taskforce.manage", meeting)
    return render_template(
        "taskforce/meeting.html", meeting=meeting, task_force=meeting.task_force,
        actions=services.available(current_user, meeting), manage=manage,
        states=MEETING_WORKFLOW.states, now=utcnow(), timeline=timeline.rows(meeting),
        document=services.minutes_document(meeting), action_kinds=ACTION_KINDS,
        categories=categories.CATEGORIES, subcategories=_subcategories(),
        overdue={item.id for item in services.overdue_action_items(meeting)},
    ), status


def _subcategories():
    return current_policy().subcategories


@bp.route("/meetings/<int:meeting_id>/transitions", methods=["POST"])
@login_required
def meeting_transition(meeting_id: int):
    form = request.form
    trigger = form.get("trigger", "")
    data = {"reason": form.get("reason", "")}
    if trigger == "hold":
        data["present"] = [value for value in (_int(v) for v in form.getlist("present")) if value is not None]
    if trigger == "draft":
        data.update(minutes=form.get("minutes", ""), decisions=form.get("decisions", ""))
    try:
        services.fire_meeting(current_user, meeting_id, trigger, _int(form.get("version")), **data)
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db.session.rollback()
        flash_error(err)
        return _render_meeting(services.get_meeting(current_user, meeting_id), err.status)
    flash(_("Done: %(action)s.", action=MEETING_WORKFLOW.transition_label(trigger)), "info")
    return redirect(url_for("taskforce.meeting_page", meeting_id=meeting_id))


@bp.route("/meetings/<int:meeting_id>/action-items", methods=["POST"])
@login_required
def add_action_item(meeting_id: int):
    form = request.form
    try:
        services.add_action_item(current_user, meeting_id, title=form.get("title", ""),
                                 description=form.get("description", ""), kind=form.get("kind", ""),
                                 due_on=form.get("due_on", ""), category=form.get("category", "basic"),
                                 subcategory=form.get("subcategory", ""))
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db.session.rollback()
        flash_error(err)
        return _render_meeting(services.get_meeting(current_user, meeting_id), err.status)
    flash(_("The action item is assigned."), "info")
    return redirect(url_for("taskforce.meeting_page", meeting_id=meeting_id))


@bp.route("/meetings/<int:meeting_id>/minutes.pdf")
@login_required
def minutes_pdf(meeting_id: int):
    meeting = services.get_meeting(current_user, meeting_id)
    document = services.minutes_document(meeting)
    if document is None:
        raise NotFound(_("Not found."))
    return Response(documents.document_bytes(document), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{document.filename}"',
                             "Cache-Control": "private, max-age=86400", "ETag": f'"{document.sha256}"'})
