"""Import jobs: the web page's imports, run outside the request."""
from __future__ import annotations

import io
import os
import threading
from datetime import datetime, timedelta
from typing import IO, Optional

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from core import storage
from core.db import in_write_transaction, is_sqlite, utcnow, write_transaction
from core.errors import DomainError, ValidationError
from core.extensions import db
from orgs.models import Person, RosterImport
from orgs.roster.columns import ImportReport, _estate_for, _Unreadable
from orgs.roster.importing import import_roster
from orgs.roster.reading import _blank, _not_a_workbook, _open_workbook, _rows_after_header

# --- import jobs: the web page's imports, run outside the request ---------------------

QUEUED, RUNNING, DONE, FAILED, STALE = "queued", "running", "done", "failed", "stale"
JOB_PROGRESS_ROWS = 5_000  # rows between two progress writes to the job row
JOB_ERRORS = 1_000  # problems kept on the job row and shown (the CLI import prints them all)
STALE_MINUTES = 15  # default of ROSTER_IMPORT_STALE_MINUTES
UPLOAD_CHECK_ROWS = 1_000  # blank rows after the header the upload check looks through
_one_job_at_a_time = threading.Lock()  # per process, for the jobs run in threads


class FileRefused(ValidationError):
    """The uploaded file cannot be imported at all; `report` says why. No job was queued."""

    def __init__(self, report: ImportReport):
        super().__init__(report.summary(), errors=[str(error) for error in report.errors])
        self.report = report


def _check_upload(fileobj: IO[bytes], report: ImportReport) -> None:
    """What is cheap to find out before a job is queued: the file is a readable .xlsx
    workbook, its first sheet has the required column headers, and a household row
    follows them (when the first UPLOAD_CHECK_ROWS rows after the header are all blank,
    the job decides). Opening the workbook is the cost: small for files saved by Excel
    or WPS; for a sheet that does not state its size (openpyxl's write-only output, so
    this module's export) openpyxl reads the sheet once to size it, about 2 s per
    100,000 rows."""
    workbook = _open_workbook(fileobj, report)
    if workbook is None:
        return
    try:
        rows, _number, positions = _rows_after_header(workbook, report)
        if positions is None:
            return
        for checked, values in enumerate(rows):
            if not _blank(values) or checked >= UPLOAD_CHECK_ROWS:
                return
        report.add_error(None, _("The sheet has a header but no household rows."))
    except _Unreadable:
        report.add_error(None, _not_a_workbook())
    finally:
        workbook.close()


def _shown_filename(filename: str) -> str:
    """The uploaded file's own name, without any folder a browser sent along."""
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    return name[:255] or "roster.xlsx"


def queue_import(actor, estate_code: str, filename: str, data: bytes) -> RosterImport:
    """Check the file cheaply, store it (core.storage) and queue a job that imports it
    into the estate as `actor`, writing its report in the interface language of now.

    The actor needs "roster.import" on the estate (NotFound outside their jurisdiction,
    NotPermitted inside it); FileRefused when the file cannot be imported at all.
    """
    estate = _estate_for(actor, estate_code, "roster.import")
    report = ImportReport(estate_code=estate.code)
    _check_upload(io.BytesIO(data), report)
    if not report.ok:
        raise FileRefused(report)
    job = RosterImport(estate_id=estate.id, person_id=actor.id, filename=_shown_filename(filename),
                       sha256=storage.put(data), size=len(data), locale=str(get_locale()), status=QUEUED,
                       rows_done=0, errors_total=0)
    with write_transaction(expire_on_commit=False, keep=(actor,)):
        db.session.add(job)
    return job


def stale_before(now: Optional[datetime] = None) -> datetime:
    """Queued or running jobs without a sign of life since then are taken as dead."""
    minutes = current_app.config.get("ROSTER_IMPORT_STALE_MINUTES", STALE_MINUTES)
    return (now or utcnow()) - timedelta(minutes=minutes)


def stale_message() -> str:
    return _("The import stopped without finishing: no sign of progress for %(minutes)d minutes. Nothing was "
             "imported; please upload the file again.",
             minutes=current_app.config.get("ROSTER_IMPORT_STALE_MINUTES", STALE_MINUTES))


def recent_imports(estate_id: int, limit: int = 10) -> list[RosterImport]:
    return list(db.session.scalars(
        select(RosterImport).options(joinedload(RosterImport.person))
        .where(RosterImport.estate_id == estate_id).order_by(RosterImport.id.desc()).limit(limit)
    ))


def _update_job(job_id: int, *conditions, **values) -> int:
    """One UPDATE of a job row in the session's write transaction; the rows it changed."""
    table = RosterImport.__table__
    statement = table.update().where(table.c.id == job_id, *conditions).values(updated_at=utcnow(), **values)
    return db.session.execute(statement).rowcount


class _JobProgress:
    """The import's progress callback for a job: writes the phase and the rows done to
    the job row in a short transaction of its own (another connection), when a phase
    begins or ends and every JOB_PROGRESS_ROWS rows, so that any process can show it.

    On SQLite nothing can be written while the import's write transaction holds the
    database lock: the write phase then shows no count until the job is done."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.phase: Optional[str] = None
        self.written = 0

    def __call__(self, phase: str, done: int, total: Optional[int]) -> None:
        if phase == self.phase and done != total and done - self.written < JOB_PROGRESS_ROWS:
            return
        if is_sqlite() and in_write_transaction():
            return
        table = RosterImport.__table__
        try:
            with db.engine.begin() as connection:
                connection.execute(table.update().where(table.c.id == self.job_id).values(
                    phase=phase, rows_done=done, rows_total=total, updated_at=utcnow()))
        except OperationalError:  # a lock wait that timed out: the next report will do
            current_app.logger.warning("roster import job %d: progress not recorded", self.job_id, exc_info=True)
            return
        self.phase, self.written = phase, done


def _claim(job_id: int) -> bool:
    """queued -> running, for exactly one runner (a conditional UPDATE decides)."""
    with write_transaction():
        return _update_job(job_id, RosterImport.status == QUEUED, status=RUNNING, started_at=utcnow()) == 1


def _finish(job_id: int, status: str, summary: str, report: Optional[ImportReport] = None) -> str:
    """Record the outcome. It is written even over a job the stale sweep has failed
    meanwhile: an import that did finish is the truth."""
    values: dict = {"status": status, "summary": summary, "finished_at": utcnow()}
    if report is not None:
        values.update(counts=report.counts(), errors=[str(error) for error in report.errors[:JOB_ERRORS]],
                      errors_total=report.errors_total)
    with write_transaction():
        _update_job(job_id, **values)
    _release_file(job_id)
    return status


def _release_file(job_id: int) -> None:
    """Delete an ended job's uploaded file (names and phone numbers of residents are
    kept no longer than the import needs them) unless a job still waiting or running
    has the very same bytes. The row keeps the file's name, size and SHA-256."""
    digest = db.session.scalar(select(RosterImport.sha256).where(RosterImport.id == job_id))
    if digest is None:
        return
    waiting = db.session.scalar(select(func.count()).select_from(RosterImport).where(
        RosterImport.sha256 == digest, RosterImport.status.in_((QUEUED, RUNNING))))
    db.session.rollback()  # end the read: no transaction left open by a job runner
    if not waiting:
        storage.delete(digest)


def run_import_job(job_id: int) -> Optional[str]:
    """Run one queued job: import its file as the person who uploaded it, in the
    language of the upload, and record the outcome on the job row. Returns the final
    status, or None when the job was not queued (another runner took it).

    The import is one transaction as always: a failure leaves nothing half-written
    and the job shows why."""
    if not _claim(job_id):
        return None
    job = db.session.get(RosterImport, job_id)
    with force_locale(job.locale):
        try:
            actor = db.session.get(Person, job.person_id)
            if actor is None or not actor.active:
                return _finish(job_id, FAILED, _("The account that uploaded the file is no longer active. "
                                                 "Nothing was imported."))
            data = storage.get(job.sha256)
            report = import_roster(actor, job.estate.code, io.BytesIO(data), progress=_JobProgress(job_id))
        except DomainError as err:
            db.session.rollback()
            return _finish(job_id, FAILED, err.message)
        except Exception:  # noqa: BLE001 - whatever broke, the job must not stay "running"
            db.session.rollback()
            current_app.logger.exception("roster import job %d failed", job_id)
            return _finish(job_id, FAILED, _("Something went wrong on our side. Nothing was saved."))
        return _finish(job_id, DONE if report.ok else FAILED, report.summary(), report)


def fail_stale_jobs() -> int:
    """Mark queued and running jobs without a sign of life for ROSTER_IMPORT_STALE_MINUTES
    as failed (a running import died with its transaction). Returns how many."""
    before = stale_before()
    stale = db.session.execute(
        select(RosterImport.id, RosterImport.locale)
        .where(RosterImport.status.in_((QUEUED, RUNNING)), RosterImport.updated_at < before)
    ).all()
    failed = 0
    for job_id, locale in stale:
        with force_locale(locale):
            message = stale_message()
        with write_transaction():
            ended = _update_job(job_id, RosterImport.status.in_((QUEUED, RUNNING)), RosterImport.updated_at < before,
                                status=FAILED, summary=message, finished_at=utcnow())
        if ended:
            _release_file(job_id)
        failed += ended
    return failed


def run_queued_jobs() -> list[int]:
    """Run the queued jobs, oldest first, until none is left (`flask roster run-jobs`).
    Returns the ids of the jobs this call ran."""
    ran: list[int] = []
    while True:
        job_id = db.session.scalar(
            select(RosterImport.id).where(RosterImport.status == QUEUED).order_by(RosterImport.id).limit(1)
        )
        if job_id is None:
            return ran
        if run_import_job(job_id) is not None:
            ran.append(job_id)


def start_import_thread(job_id: int) -> threading.Thread:
    """Run a job in a thread of this web process (ROSTER_IMPORTS_IN_THREAD). The state is
    in the database, so any process shows the progress; if this process dies, the job is
    seen as stale. One job at a time per process; a graceful shutdown waits for it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(target=_run_in_thread, args=(app, job_id), name=f"roster-import-{job_id}")
    thread.start()
    return thread


def _run_in_thread(app, job_id: int) -> None:
    with app.app_context(), _one_job_at_a_time:
        try:
            run_import_job(job_id)
        except Exception:  # noqa: BLE001 - a thread has no caller to tell: log it
            app.logger.exception("roster import job %d could not be run", job_id)
        finally:
            db.session.remove()
