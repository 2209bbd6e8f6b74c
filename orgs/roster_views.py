"""Roster page for officers: upload an .xlsx roster of an estate, download the export
and the blank template. The work is done by orgs.roster; these views are thin."""
from __future__ import annotations

import io

from flask import Blueprint, render_template, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from core.errors import NotFound
from core.extensions import db
from orgs import permissions, roster
from orgs.models import Estate

bp = Blueprint("roster", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_ERRORS = 1000  # the CLI prints every problem; the page shows this many


class RosterUploadForm(FlaskForm):
    file = FileField(_l("Roster file (.xlsx)"), validators=[FileRequired(_l("Choose an .xlsx file to upload."))])


def _estate(estate_id: int, action: str) -> Estate:
    """Missing or outside jurisdiction: 404; inside but not allowed: 403."""
    estate = db.session.get(Estate, estate_id)
    if estate is None:
        raise NotFound(_("Not found."))
    permissions.require(current_user, action, estate)
    return estate


@bp.route("/estates/<int:estate_id>/roster", methods=["GET", "POST"])
@login_required
def roster_page(estate_id: int):
    estate = _estate(estate_id, "roster.import")
    form = RosterUploadForm()
    report = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            report = roster.import_roster(current_user, estate.code, form.file.data.stream)
            status = 200 if report.ok else 422
        else:
            status = 422
    return render_template(
        "orgs/roster.html",
        estate=estate,
        form=form,
        report=report,
        columns=roster.COLUMNS,
        shown_errors=SHOWN_ERRORS,
    ), status


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
