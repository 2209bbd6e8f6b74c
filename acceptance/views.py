"""Pages for joint acceptance: the inspection of an issue or estate plan, its checklist,
the parties' sign-offs, the rectification rounds and the signed record download."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from core.errors import DomainError, NotFound
from core.extensions import db
from core.web import flash_error
from documents import services as documents
from orgs import permissions
from acceptance import record as acceptance_record, services
from workflow import timeline
from acceptance.models import (
    DECISIONS,
    PARTIES,
    RESULTS,
    WORKFLOW,
    JointInspection,
    party_label,
    rectification_items,
)
from rules.policy import current_policy
from core.photos import from_files as photos_from

bp = Blueprint("acceptance", __name__)


class StepForm(FlaskForm):
    """A button that moves the inspection on: only the version the page showed."""

    version = IntegerField(validators=[InputRequired()])


class ItemForm(StepForm):
    result = RadioField(_l("Result of the check"), validators=[DataRequired()],
                        choices=[SelectChoice(code, label) for code, label in RESULTS.items()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    photos = MultipleFileField(_l("Photos (JPEG, PNG or WebP, at most 6)"))


class SignForm(StepForm):
    party = SelectField(_l("Signing for"), choices=[], validators=[DataRequired()])
    decision = RadioField(_l("Decision"), validators=[DataRequired()],
                          choices=[SelectChoice(code, label) for code, label in DECISIONS.items()])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
    items = HiddenField()  # the check boxes named "items" are read as a list


def _page_url(inspection: JointInspection) -> str:
    if inspection.issue_id is not None:
        return url_for("acceptance.issue_page", issue_id=inspection.issue_id)
    return url_for("acceptance.plan_page", plan_id=inspection.plan_id)


def _render(subject, inspection: JointInspection | None, *, issue=None, plan=None, status: int = 200):
    record = acceptance_record.record_of(inspection) if inspection is not None else None
    return render_template(
        "acceptance/page.html",
        subject=subject, issue=issue, plan=plan, inspection=inspection, record=record,
        state=WORKFLOW.state(inspection.state) if inspection is not None else None,
        overdue=inspection is not None and services.is_overdue(inspection),
        timeline=timeline.rows(inspection) if inspection is not None else [],
        # The checklist items by id: each "record the result" entry of the timeline names its item.
        item_labels={item.id: item.label for item in inspection.items} if inspection is not None else {},
        lines=services.party_lines(inspection) if inspection is not None else [],
        sign_parties=services.signing_options(current_user, inspection) if inspection is not None else [],
        may=(lambda trigger: services.may(current_user, inspection, trigger)) if inspection is not None else None,
        issue_actions=services.issue_actions(current_user, issue) if issue is not None else [],
        rectification_items=rectification_items,
        verify_url=documents.verify_url(record.reference or record.sha256) if record is not None else None,
        party_label=party_label, parties=PARTIES, results=RESULTS, decisions=DECISIONS, item_label=current_policy().item_label,
        step_form=StepForm(), item_form=ItemForm(), sign_form=SignForm(),
    ), status


@bp.route("/issues/<int:issue_id>/acceptance")
@login_required
def issue_page(issue_id: int):
    issue, inspection = services.acceptance_of_issue(current_user, issue_id)
    return _render(issue, inspection, issue=issue)


@bp.route("/plans/<int:plan_id>/acceptance")
@login_required
def plan_page(plan_id: int):
    plan, inspection = services.acceptance_of_plan(current_user, plan_id)
    return _render(plan, inspection, plan=plan)


def _run(action, done: str, back: str):
    """Call a service; flash the outcome; back to the page."""
    try:
        action()
    except DomainError as err:
        db.session.rollback()
        flash_error(err)
    else:
        flash(done, "info")
    return redirect(back)


def _inspection(inspection_id: int) -> JointInspection:
    return services.get_inspection(current_user, inspection_id)


def _invalid_form(form: FlaskForm, back: str):
    flash(_("Some information is missing or invalid."), "error")
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")
    return redirect(back)


@bp.route("/issues/<int:issue_id>/acceptance/open", methods=["POST"])
@login_required
def open_issue(issue_id: int):
    back = url_for("acceptance.issue_page", issue_id=issue_id)
    if not StepForm().validate_on_submit():
        return _invalid_form(StepForm(), back)
    return _run(lambda: services.open_inspection(current_user, issue_id),
                _("The joint inspection is open."), back)


@bp.route("/plans/<int:plan_id>/acceptance/open", methods=["POST"])
@login_required
def open_plan(plan_id: int):
    back = url_for("acceptance.plan_page", plan_id=plan_id)
    if not StepForm().validate_on_submit():
        return _invalid_form(StepForm(), back)
    return _run(lambda: services.open_plan_inspection(current_user, plan_id),
                _("The joint inspection is open."), back)


@bp.route("/acceptance/<int:inspection_id>/items/<int:item_id>", methods=["POST"])
@login_required
def record_item(inspection_id: int, item_id: int):
    inspection = _inspection(inspection_id)
    form = ItemForm()
    if not form.validate_on_submit():
        return _invalid_form(form, _page_url(inspection))
    try:
        services.record_item(current_user, inspection_id, form.version.data, item_id=item_id,
                             result=form.result.data, notes=form.notes.data or "", photos=photos_from(form.photos.data))
    except DomainError as err:
        db.session.rollback()
        flash_error(err)
        return redirect(_page_url(inspection) + f"#item-{item_id}")
    flash(_("The result is recorded."), "info")
    # On to the next item still to check, not back to the top of a long checklist.
    db.session.expire_all()
    following = services.next_to_record(services.get_inspection(current_user, inspection_id))
    return redirect(_page_url(inspection) + (f"#item-{following}" if following else "#checklist-end"))


@bp.route("/acceptance/<int:inspection_id>/items/rest-passed", methods=["POST"])
@login_required
def record_rest_passed(inspection_id: int):
    inspection = _inspection(inspection_id)
    form = StepForm()
    if not form.validate_on_submit():
        return _invalid_form(form, _page_url(inspection))
    try:
        count = services.record_rest_passed(current_user, inspection_id, form.version.data)
    except DomainError as err:
        db.session.rollback()
        flash_error(err)
        return redirect(_page_url(inspection))
    flash(ngettext("%(num)d item recorded as passed.", "%(num)d items recorded as passed.", count), "info")
    return redirect(_page_url(inspection) + "#checklist-end")


@bp.route("/acceptance/<int:inspection_id>/findings", methods=["POST"])
@login_required
def submit_findings(inspection_id: int):
    return _step(inspection_id, services.submit_findings, _("The findings are submitted."))


@bp.route("/acceptance/<int:inspection_id>/signoffs", methods=["POST"])
@login_required
def sign(inspection_id: int):
    inspection = _inspection(inspection_id)
    form = SignForm()
    form.party.choices = [SelectChoice(code, party_label(code)) for code in PARTIES]
    if not form.validate_on_submit():
        return _invalid_form(form, _page_url(inspection))
    items = [value for value in request.form.getlist("items") if value.isdigit()]
    return _run(
        lambda: services.sign(current_user, inspection_id, form.version.data, party=form.party.data,
                              decision=form.decision.data, comment=form.comment.data or "",
                              items=[int(value) for value in items]),
        _("Your sign-off is recorded."), _page_url(inspection),
    )


@bp.route("/acceptance/<int:inspection_id>/reinspect", methods=["POST"])
@login_required
def reinspect(inspection_id: int):
    return _step(inspection_id, services.reinspect, _("The re-inspection round is open."))


def _step(inspection_id: int, service, done: str):
    """A step that needs nothing but the inspection's version (findings, re-inspection)."""
    inspection = _inspection(inspection_id)
    form = StepForm()
    if not form.validate_on_submit():
        return _invalid_form(form, _page_url(inspection))
    return _run(lambda: service(current_user, inspection_id, form.version.data), done, _page_url(inspection))


@bp.route("/acceptance/<int:inspection_id>/record", methods=["POST"])
@login_required
def issue_record(inspection_id: int):
    """Issue the signed record again after a failure (no key yet, timestamp authority down)."""
    inspection = _inspection(inspection_id)
    permissions.require(current_user, "acceptance.record", inspection)
    if not StepForm().validate_on_submit() or inspection.state != "accepted":
        abort(409)
    try:
        acceptance_record.issue_record(inspection_id)
    except DomainError as err:
        flash_error(err)
    else:
        flash(_("The signed acceptance record is issued."), "info")
    return redirect(_page_url(inspection))


@bp.route("/acceptance/<int:inspection_id>/record.pdf")
@login_required
def record_pdf(inspection_id: int):
    inspection = _inspection(inspection_id)
    record = acceptance_record.record_of(inspection)
    if record is None:
        raise NotFound(_("Not found."))
    return Response(
        documents.document_bytes(record), mimetype="application/pdf",
        # Opens in the reader; ?download=1 saves it instead.
        headers={"Content-Disposition": f'{"attachment" if request.args.get("download") else "inline"}; '
                                        f'filename="{record.filename}"',
                 "Cache-Control": "private, max-age=86400", "ETag": f'"{record.sha256}"'},
    )


@bp.route("/acceptance/<int:inspection_id>/photos/<int:photo_id>")
@login_required
def photo(inspection_id: int, photo_id: int):
    item, data = services.photo(current_user, inspection_id, photo_id)
    return Response(data, mimetype=item.content_type, headers={"Cache-Control": "private, max-age=86400"})


@bp.app_context_processor
def _issue_acceptance():
    """`issue_acceptance(issue)` for the panel on the issue page."""

    def issue_acceptance(issue):
        inspection = services.covering_inspection(issue)
        if inspection is None and issue.state != "acceptance":
            return None
        return {
            "inspection": inspection,
            "state": WORKFLOW.state(inspection.state) if inspection is not None else None,
            "overdue": inspection is not None and services.is_overdue(inspection),
            "record": acceptance_record.record_of(inspection) if inspection is not None else None,
        }

    return {"issue_acceptance": issue_acceptance}
