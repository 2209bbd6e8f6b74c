"""Ledger pages: ask for the ledger of a unit and period, follow the job, download it."""
from __future__ import annotations

import io

from flask import Blueprint, current_app, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from core import storage
from core.errors import NotFound
from stats import ledger, services
from stats.periods import parse

bp = Blueprint("ledgers", __name__)

STATE_LABELS = {
    ledger.QUEUED: _l("Waiting"),
    ledger.RUNNING: _l("Writing"),
    ledger.DONE: _l("Ready"),
    ledger.FAILED: _l("Failed"),
}


def _base_url() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


@bp.route("/ledgers", methods=["POST"])
@login_required
def request_ledger():
    node = services.viewed_node(current_user, services.parse_node(request.form.get("node")))
    period = parse(request.form.get("period"), request.form.get("from"), request.form.get("to"))
    job = ledger.queue_ledger(current_user, node, period)
    if current_app.config.get("LEDGER_JOBS_IN_THREAD", not current_app.testing):
        ledger.start_thread(job.id, _base_url())
    return redirect(url_for("ledgers.ledger_page", job_id=job.id), 303)


@bp.route("/ledgers/<int:job_id>")
@login_required
def ledger_page(job_id: int):
    job = ledger.get_job(current_user, job_id)
    return render_template("stats/ledger.html", job=job, state_labels=STATE_LABELS,
                           finished=job.status in (ledger.DONE, ledger.FAILED))


@bp.route("/ledgers/<int:job_id>/ledger.xlsx")
@login_required
def ledger_file(job_id: int):
    job = ledger.get_job(current_user, job_id)
    if job.status != ledger.DONE or not job.sha256:
        raise NotFound(_("Not found."))
    return send_file(io.BytesIO(storage.get(job.sha256)), mimetype=ledger.XLSX_TYPE, as_attachment=True,
                     download_name=job.filename)
