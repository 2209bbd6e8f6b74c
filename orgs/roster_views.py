"""Roster page for officers: upload an .xlsx roster of an estate, follow its import,
download the export and the blank template. The work is done by orgs.roster; these
views are thin.

An upload is checked cheaply, stored and queued as a job (orgs.roster.queue_import);
the job runs outside the request: in a thread of this process when
ROSTER_IMPORTS_IN_THREAD is on (the default except under TESTING), else from
`flask roster run-jobs`. The job's page follows its progress from the database."""
from __future__ import annotations

import io

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from core.errors import NotFound
from core.extensions import db
from orgs import permissions, roster
from orgs.models import Estate, RosterImport

bp = Blueprint("roster", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_ERRORS = roster.JOB_ERRORS  # the CLI prints every problem; the page shows this many
STATE_LABELS = {
    roster.QUEUED: _l("Waiting"),
    roster.RUNNING: _l("Importing"),
    roster.DONE: _l("Imported"),
    roster.FAILED: _l("Not imported"),
    roster.STALE: _l("Interrupted"),
}
FINISHED = (roster.DONE, roster.FAILED, roster.STALE)


class RosterUploadForm(FlaskForm):
    file = FileField(_l("Roster file (.xlsx)"), validators=[FileRequired(_l("Choose an .xlsx file to upload."))])


def _estate(estate_id: int, action: str) -> Estate:
    """Missing or outside jurisdiction: 404; inside but not allowed: 403."""
    estate = db.session.get(Estate, estate_id)
    if estate is None:
        raise NotFound(_("Not found."))
    permissions.require(current_user, action, estate)
    return estate


def _job(estate_id: int, job_id: int) -> tuple[Estate, RosterImport]:
    """An import job of the estate, for those who may import its roster."""
    estate = _estate(estate_id, "roster.import")
    job = db.session.get(RosterImport, job_id)
    if job is None or job.estate_id != estate.id:
        raise NotFound(_("Not found."))
    return estate, job


def status_text(job: RosterImport, state: str) -> str:
    """One line on where the job is."""
    if state == roster.QUEUED:
        return _("Waiting for its turn to start.")
    if state == roster.RUNNING and job.phase == roster.WRITE:
        if job.rows_done and job.rows_total:
            return _("Writing households: %(done)d of %(total)d.", done=job.rows_done, total=job.rows_total)
        return _("Writing households.")
    if state == roster.RUNNING:
        if job.rows_total:
            return _("Reading and checking rows: %(done)d of %(total)d.", done=job.rows_done, total=job.rows_total)
        return _("Reading and checking rows: %(done)d so far.", done=job.rows_done)
    if state == roster.STALE:
        return roster.stale_message()
    return job.summary or ""


@bp.route("/estates/<int:estate_id>/roster", methods=["GET", "POST"])
@login_required
def roster_page(estate_id: int):
    estate = _estate(estate_id, "roster.import")
    form = RosterUploadForm()
    report = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            upload = form.file.data
            try:
                job = roster.queue_import(current_user, estate.code, upload.filename or "", upload.read())
            except roster.FileRefused as refused:
                report, status = refused.report, 422
            else:
                if current_app.config.get("ROSTER_IMPORTS_IN_THREAD", not current_app.testing):
                    roster.start_import_thread(job.id)
                return redirect(url_for("roster.import_page", estate_id=estate_id, job_id=job.id), 303)
        else:
            status = 422
    return render_template(
        "orgs/roster.html",
        estate=estate,
        form=form,
        report=report,
        imports=roster.recent_imports(estate_id),
        stale_before=roster.stale_before(),
        state_labels=STATE_LABELS,
        columns=roster.COLUMNS,
        shown_errors=SHOWN_ERRORS,
    ), status


@bp.route("/estates/<int:estate_id>/roster/imports/<int:job_id>")
@login_required
def import_page(estate_id: int, job_id: int):
    estate, job = _job(estate_id, job_id)
    state = job.state(roster.stale_before())
    return render_template(
        "orgs/roster_import.html",
        estate=estate,
        job=job,
        state=state,
        finished=state in FINISHED,
        status_text=status_text(job, state),
        state_labels=STATE_LABELS,
        shown_errors=SHOWN_ERRORS,
    )


@bp.route("/estates/<int:estate_id>/roster/imports/<int:job_id>/status")
@login_required
def import_status(estate_id: int, job_id: int):
    """The job page's figures as JSON, for static/js/roster_import.js."""
    job = _job(estate_id, job_id)[1]
    state = job.state(roster.stale_before())
    return jsonify({
        "id": job.id,
        "state": state,
        "state_label": str(STATE_LABELS[state]),
        "finished": state in FINISHED,
        "phase": job.phase,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "text": status_text(job, state),
    })


@bp.route("/estates/<int:estate_id>/roster.xlsx")
@login_required
def roster_export(estate_id: int):
    estate = _estate(estate_id, "roster.export")
    buffer = io.BytesIO()
    roster.export_roster(current_user, estate.code, buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX, as_attachment=True,
                     download_name=_("%(estate)s roster.xlsx", estate=estate.name))


@bp.route("/roster/template.xlsx")
@login_required
def roster_template():
    permissions.require(current_user, "roster.import")
    buffer = io.BytesIO()
    roster.write_template(buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX, as_attachment=True, download_name=_("roster template.xlsx"))
