"""Pages for consultation, votes and public notices.

Thin views over procedures.voting, procedures.notice and procedures.consultation. A domain
error re-renders the page with the message and its status (403/404/409/422); nothing
about ballots appears before a vote closes.
"""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.errors import DomainError, ValidationError
from core.extensions import db
from core.web import flash_error
from orgs import permissions
from orgs.models import Estate
from procedures import consultation, notice, voting
from rules import tally
from procedures.subjects import Target, Workplace, resolve_for, target_kind

bp = Blueprint("procedures", __name__)



def _after_error(err: DomainError, render: Callable[[], str]):
    db.session.rollback()
    flash_error(err)
    return render(), err.status


def _form_text(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _form_int(name: str) -> int | None:
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        return None


def _one(name: str) -> str | None:
    """The single value of a form field; two values of one field in one request are refused."""
    values = request.form.getlist(name)
    if len(values) > 1:
        raise ValidationError(_("Choose only one option."), fields={name: _("Sent twice.")})
    return values[0] if values else None


# --- votes ---------------------------------------------------------------------------


@bp.route("/votes/")
@login_required
def vote_list():
    return render_template("procedures/votes.html", votes=voting.visible_votes(current_user),
                           states=voting.VOTE_WORKFLOW.states)


def _vote_context(vote: voting.Vote) -> dict:
    closed = vote.state == "closed"
    staff = permissions.can(current_user, "vote.close", vote) or permissions.can(current_user, "vote.enter_paper")
    return {
        "vote": vote,
        "rule": vote.rule,
        "state": voting.VOTE_WORKFLOW.state(vote.state),
        "target": _target_or_none(vote.target_type, vote.target_id),
        "result": voting.stored_result(vote) if closed else None,
        "lines": tally.describe(voting.stored_result(vote)) if closed else [],
        "check_labels": tally.CHECK_LABELS,
        "my_ballots": voting.my_ballots(current_user, vote),
        "may_cast": vote.is_open and permissions.can(current_user, "vote.cast", vote) and _in_electorate(vote),
        "paper_households": voting.paper_households(current_user, vote) if vote.is_open else [],
        # Staff following the vote see how many have voted and who has not (never the choices).
        "turnout": voting.turnout(vote) if vote.is_open and staff else None,
        "not_voted": voting.not_voted(current_user, vote) if vote.is_open and staff else [],
        "entered": (entered := voting.entered_by(current_user, vote)),
        "entered_labels": voting.entered_labels(vote, entered),
        "actions": [t.trigger for t in voting.VOTE_WORKFLOW.available(vote, current_user)],
        "choice_labels": voting.CHOICE_LABELS,
        "channel_labels": voting.CHANNEL_LABELS,
        "count_text": tally.count_text,
        "threshold_text": tally.threshold_text,
        # The public notice that followed the vote, where the person may read it.
        "notices": [n for n in notice.notices_with_vote(vote.id) if permissions.can(current_user, "notice.view", n)],
    }


def _in_electorate(vote: voting.Vote) -> bool:
    try:
        voting.own_voter(vote, current_user, None)
    except ValidationError:
        return True  # several households: the form asks which
    except DomainError:
        return False
    return True


def _target_or_none(target_type: str, target_id: int) -> Target | None:
    try:
        return resolve_for(current_user, target_type, target_id)
    except DomainError:
        return None


def _render_vote(vote_id: int, paper_form: dict | None = None, confirm_replace: bool = False) -> str:
    """The vote page; after a refused paper ballot, its form keeps what was typed and, when
    the voter already had a ballot, asks to confirm the replacement."""
    vote = voting.get_vote(current_user, vote_id)
    return render_template("procedures/vote.html", paper_form=paper_form or {}, confirm_replace=confirm_replace,
                           **_vote_context(vote))


@bp.route("/votes/<int:vote_id>")
@login_required
def vote_page(vote_id: int):
    return _render_vote(vote_id)


@bp.route("/votes/<int:vote_id>/ballot", methods=["POST"])
@login_required
def cast(vote_id: int):
    try:
        voting.cast_ballot(current_user, vote_id, _one("choice"), _form_int("household_id"))
    except DomainError as err:
        return _after_error(err, lambda: _render_vote(vote_id))
    flash(_("Your ballot has been recorded. You may change it until the vote closes."), "info")
    return redirect(url_for("procedures.vote_page", vote_id=vote_id))


def _evidence_file() -> tuple[bytes | None, str]:
    upload = request.files.get("evidence")
    if upload is None or not upload.filename:
        return None, ""
    return upload.read(), upload.mimetype or ""


@bp.route("/votes/<int:vote_id>/paper", methods=["POST"])
@login_required
def enter_paper(vote_id: int):
    data, content_type = _evidence_file()
    try:
        entry = voting.PaperBallot(_form_int("household_id") or 0, _one("choice"), _form_text("evidence_ref"),
                                   _form_text("channel") or "paper", data, content_type)
        voting.enter_paper_ballots(current_user, vote_id, [entry], replace=request.form.get("replace") == "1")
    except DomainError as err:
        fields = err.details.get("fields") or {}
        return _after_error(err, lambda: _render_vote(vote_id, request.form.to_dict(), "replace" in fields))
    flash(_("The paper ballot has been entered."), "info")
    return redirect(url_for("procedures.vote_page", vote_id=vote_id))


@bp.route("/votes/<int:vote_id>/close", methods=["POST"])
@login_required
def close(vote_id: int):
    try:
        voting.close_vote(current_user, vote_id, _form_int("version"),
                                 on_failure=_form_text("on_failure") or "revise", reason=_form_text("reason"))
    except DomainError as err:
        return _after_error(err, lambda: _render_vote(vote_id))
    flash(_("The vote is closed and the result is published."), "info")
    return redirect(url_for("procedures.vote_page", vote_id=vote_id))


@bp.route("/votes/<int:vote_id>/cancel", methods=["POST"])
@login_required
def cancel(vote_id: int):
    try:
        voting.cancel_vote(current_user, vote_id, _form_int("version"), _form_text("reason"))
    except DomainError as err:
        return _after_error(err, lambda: _render_vote(vote_id))
    flash(_("The vote has been cancelled."), "info")
    return redirect(url_for("procedures.vote_page", vote_id=vote_id))


def _render_open_form(target_type: str, target_id: int) -> str:
    target = resolve_for(current_user, target_type, target_id)
    permissions.require(current_user, "vote.open", target)
    return render_template("procedures/open_vote.html", target=target,
                           rules=voting.allowed_rules(target), scopes=_scope_choices(target),
                           version=getattr(target.obj, "version", None))


def _scope_choices(target: Target) -> list[tuple[str, str]]:
    """The target's own place first (the default electorate), then the rest of its estate."""
    estate = db.session.get(Estate, target.estate_id)
    kind, ident = voting.default_scope(target)
    choices = [(f"{kind}:{ident}", _("Default: the item's own place"))]
    choices.append((f"estate:{estate.id}", f"{estate.name} ({voting.SCOPE_LABELS['estate']})"))
    for building in estate.buildings:
        choices.append((f"building:{building.id}", f"{estate.name} {building.number}"))
        choices += [(f"unit:{unit.id}", f"{estate.name} {building.number} {unit.number}") for unit in building.units]
    return choices


@bp.route("/votes/new/<target_type>/<int:target_id>", methods=["GET", "POST"])
@login_required
def open_vote(target_type: str, target_id: int):
    render = lambda: _render_open_form(target_type, target_id)  # noqa: E731
    if request.method == "GET":
        return render()
    kind, _sep, ident = _form_text("scope").partition(":")
    try:
        options = voting.VoteOptions.from_data({
            "scope_kind": kind, "scope_id": ident, "rule": _form_text("rule"),
            "vote_title": _form_text("title"), "closes_on": _form_text("closes_on")})
        vote = voting.open_vote(current_user, target_type, target_id, options, _form_int("version"))
    except DomainError as err:
        return _after_error(err, render)
    flash(_("The vote is open."), "info")
    return redirect(url_for("procedures.vote_page", vote_id=vote.id))


# --- notices -------------------------------------------------------------------------


def _render_notice(notice_id: int) -> str:
    item = notice.get_notice(current_user, notice_id)
    return render_template(
        "procedures/notice.html", notice=item, target=_target_or_none(item.target_type, item.target_id),
        may_object=item.is_running() and notice.lives_in_estate(current_user, item.estate_id),
        may_answer=permissions.can(current_user, "notice.answer", item),
        show_names=permissions.is_staff(current_user), labels=notice.OBJECTION_LABELS,
    )


@bp.route("/notices/<int:notice_id>")
@login_required
def notice_page(notice_id: int):
    return _render_notice(notice_id)


def _notice_action(notice_id: int, action: Callable[[], object], done: str):
    try:
        action()
    except DomainError as err:
        return _after_error(err, lambda: _render_notice(notice_id))
    flash(done, "info")
    return redirect(url_for("procedures.notice_page", notice_id=notice_id))


@bp.route("/notices/<int:notice_id>/objections", methods=["POST"])
@login_required
def file_objection(notice_id: int):
    return _notice_action(notice_id, lambda: notice.file_objection(current_user, notice_id, _form_text("body")),
                          _("Your objection has been filed. The community will answer it in writing."))


@bp.route("/notices/<int:notice_id>/objections/<int:objection_id>/answer", methods=["POST"])
@login_required
def answer_objection(notice_id: int, objection_id: int):
    return _notice_action(notice_id, lambda: notice.answer_objection(current_user, objection_id, _form_text("answer")),
                          _("The answer has been published."))


@bp.route("/notices/<int:notice_id>/objections/<int:objection_id>/withdraw", methods=["POST"])
@login_required
def withdraw_objection(notice_id: int, objection_id: int):
    return _notice_action(notice_id, lambda: notice.withdraw_objection(current_user, objection_id),
                          _("Your objection has been withdrawn."))


# --- consultation ------------------------------------------------------------------------


def target_procedures(target: Target) -> dict:
    """Everything about one target: meetings, comments, votes and notices (for pages)."""
    return {
        "target": target,
        "meetings": consultation.meetings_for(target.type, target.id),
        "comments": consultation.comments_for(target.type, target.id),
        "votes": voting.votes_for(target.type, target.id),
        "notices": notice.notices_for(target.type, target.id),
        "may_record": (permissions.can(current_user, "consultation.record", target)
                       and consultation.target_is_open(target)),
        "may_open_vote": permissions.can(current_user, "vote.open", target),
        "may_comment": notice.lives_in_estate(current_user, target.estate_id),
        "may_answer": permissions.can(current_user, "consultation.answer", Workplace(target.path, target.estate_id)),
        "kind_labels": consultation.MEETING_KINDS,
        "vote_states": voting.VOTE_WORKFLOW.states,
    }


def _render_target(target_type: str, target_id: int) -> str:
    target = resolve_for(current_user, target_type, target_id)
    permissions.require(current_user, "consultation.view", target)
    return render_template("procedures/target.html", target_label=_target_label(target_type),
                           **target_procedures(target))


@bp.route("/procedures/<target_type>/<int:target_id>")
@login_required
def target_page(target_type: str, target_id: int):
    return _render_target(target_type, target_id)


@bp.route("/procedures/<target_type>/<int:target_id>/comments", methods=["POST"])
@login_required
def add_comment(target_type: str, target_id: int):
    try:
        consultation.add_comment(current_user, target_type, target_id, _form_text("body"))
    except DomainError as err:
        return _after_error(err, lambda: _render_target(target_type, target_id))
    flash(_("Your comment has been recorded."), "info")
    return redirect(url_for("procedures.target_page", target_type=target_type, target_id=target_id))


@bp.route("/procedures/<target_type>/<int:target_id>/comments/<int:comment_id>/answer", methods=["POST"])
@login_required
def answer_comment(target_type: str, target_id: int, comment_id: int):
    try:
        consultation.answer_comment(current_user, comment_id, _form_text("answer"))
    except DomainError as err:
        return _after_error(err, lambda: _render_target(target_type, target_id))
    flash(_("The answer has been published."), "info")
    return redirect(url_for("procedures.target_page", target_type=target_type, target_id=target_id))


def _meeting_record() -> consultation.MeetingRecord:
    from datetime import date

    errors: dict[str, str] = {}
    held_on = voting.optional_date(_form_text("held_on"), "held_on", errors)
    if errors:
        raise ValidationError(_("Some information is missing or invalid."), fields=errors)
    roles, names = request.form.getlist("participant_role"), request.form.getlist("participant_name")
    participants = tuple((role, name) for role, name in zip(roles, names) if role or name.strip())
    files = tuple(consultation.File(f.filename or "attachment", f.mimetype or "", f.read())
                  for f in request.files.getlist("attachments") if f and f.filename)
    return consultation.MeetingRecord(
        kind=_form_text("kind"), held_on=held_on if isinstance(held_on, date) else None,
        place=_form_text("place"), agenda=_form_text("agenda"), minutes=_form_text("minutes"),
        decisions=_form_text("decisions"), participants=participants, attachments=files)


def _render_meeting_form(target_type: str, target_id: int) -> str:
    target = resolve_for(current_user, target_type, target_id)
    permissions.require(current_user, "consultation.record", target)
    return render_template("procedures/meeting_form.html", target=target,
                           kinds=consultation.MEETING_KINDS, roles=consultation.PARTICIPANT_ROLES)


@bp.route("/procedures/<target_type>/<int:target_id>/meetings/new", methods=["GET", "POST"])
@login_required
def record_meeting(target_type: str, target_id: int):
    render = lambda: _render_meeting_form(target_type, target_id)  # noqa: E731
    if request.method == "GET":
        return render()
    try:
        meeting = consultation.record_meeting(current_user, target_type, target_id, _meeting_record())
    except DomainError as err:
        return _after_error(err, render)
    flash(_("The meeting has been recorded."), "info")
    return redirect(url_for("procedures.meeting_page", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>")
@login_required
def meeting_page(meeting_id: int):
    meeting = consultation.get_meeting(current_user, meeting_id)
    return render_template("procedures/meeting.html", meeting=meeting,
                           target=_target_or_none(meeting.target_type, meeting.target_id),
                           kinds=consultation.MEETING_KINDS, roles=consultation.PARTICIPANT_ROLES)


@bp.route("/meetings/<int:meeting_id>/attachments/<int:attachment_id>")
@login_required
def meeting_attachment(meeting_id: int, attachment_id: int):
    item, data = consultation.attachment(current_user, meeting_id, attachment_id)
    return Response(data, mimetype=item.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quoted(item.filename)}",
        "Cache-Control": "private, max-age=3600"})


def _quoted(filename: str) -> str:
    from urllib.parse import quote

    return quote(filename, safe="")


# --- the panel other pages embed ----------------------------------------------------------


def _target_label(type_name: str):
    kind = target_kind(type_name)
    return kind.label if kind is not None and kind.label is not None else type_name


@bp.app_context_processor
def _procedures_helper() -> dict:
    """`procedures_of(type, id)` for a target's own page (the issue page): its meetings,
    votes and notices."""
    def procedures_of(type_name: str, ident: int) -> dict:
        return target_procedures(resolve_for(current_user, type_name, ident))

    return {"procedures_of": procedures_of}
