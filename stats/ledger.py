"""Ledgers (台账) as .xlsx for an org unit's subtree and a period, run as jobs.

The workbook is streamed with openpyxl's write-only mode (rows are written as they are
read, in batches: memory stays flat at any size) into a temporary file, then kept in
core.storage. A job row records who asked, for which node and period, and how far it
got, so that the progress page of any process can show it (as the roster import jobs
do, orgs/roster/jobs.py). The rows are those the dashboard counts: under the node's
path, in the period; a grid worker's ledger holds only the grid.

Sheets: issues; votes with their exact figures; dispatches per branch; joint
acceptances with their parties and signed records; disputes (every step of the
dispute branch). Text that looks like a formula is written as text (core.xlsx).
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Optional

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, Date, and_, select
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from core import storage, xlsx
from core.db import utcnow, write_transaction
from core.errors import NotFound
from core.extensions import db
from core.types import under_path
from acceptance.models import PARTIES, JointInspection
from dispatch.models import WORKFLOW as DISPATCH_WORKFLOW
from dispatch.models import Dispatch, DispatchAssignment
from documents.models import StoredDocument
from issues.models import RenovationIssue
from issues.renovation import WORKFLOW
from orgs import permissions
from orgs.models import Building, Estate, Household, OrgNode, StairwellUnit
from orgs.roles import LEVEL_LABELS
from procedures.voting import Vote
from rules import categories
from rules.calendar import LOCAL
from stats.periods import Period
from workflow.audit import AuditEntry

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
BATCH = 2_000  # rows read per round trip
PROGRESS_ROWS = 5_000  # rows between two progress writes
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DISPUTE_TRIGGERS = ("raise_dispute", "to_mediation", "to_litigation", "settle", "record_agreement",
                    "record_judgment", "close_by_judgment")
STALE_MINUTES = 15  # default of LEDGER_STALE_MINUTES: a job writes its progress every few seconds
_one_job_at_a_time = threading.Lock()


class LedgerJob(db.Model):
    __tablename__ = "ledger_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org_node.id"))
    period_kind: Mapped[str] = mapped_column(String(10))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    locale: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=QUEUED)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[Optional[int]] = mapped_column(Integer)
    sha256: Mapped[Optional[str]] = mapped_column(String(64))
    size: Mapped[Optional[int]] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    org: Mapped[OrgNode] = relationship()

    @property
    def period(self) -> Period:
        return Period(self.period_kind, self.first_day, self.last_day)

    @property
    def filename(self) -> str:
        return f"{self.org.name} 台账 {self.first_day.isoformat()}_{self.last_day.isoformat()}.xlsx"


# --- asking for a ledger ------------------------------------------------------------------


def queue_ledger(actor, node: OrgNode, period: Period) -> LedgerJob:
    """Queue the ledger of `node` (which the caller checked the actor may see) for `period`."""
    permissions.require(actor, "stats.view", node)
    job = LedgerJob(person_id=actor.id, org_id=node.id, period_kind=period.kind, first_day=period.first,
                    last_day=period.last, locale=str(get_locale()), status=QUEUED, rows_done=0)
    with write_transaction(expire_on_commit=False, keep=(actor,)):
        db.session.add(job)
    return job


def get_job(actor, job_id: int) -> LedgerJob:
    """A ledger job of the actor's own (anyone else's: 404)."""
    job = db.session.get(LedgerJob, job_id)
    if job is None or job.person_id != actor.id:
        raise NotFound(_("Not found."))
    return job


def _update(job_id: int, **values) -> None:
    table = LedgerJob.__table__
    with db.engine.begin() as connection:
        connection.execute(table.update().where(table.c.id == job_id).values(updated_at=utcnow(), **values))


# --- the sheets ---------------------------------------------------------------------------


# China has kept UTC+8 without summer time since 1992: a fixed offset from then on (the
# zone conversion costs more than the rest of a row's values).
_FIXED_OFFSET_SINCE = datetime(1992, 1, 1)
_OFFSET = timedelta(hours=8)


def _local(value: datetime | None):
    """A UTC time as local (Asia/Shanghai) time without zone, to the second, as Excel shows it."""
    if value is None:
        return None
    if value >= _FIXED_OFFSET_SINCE:
        return (value + _OFFSET).replace(microsecond=0)
    return value.replace(tzinfo=timezone.utc).astimezone(LOCAL).replace(tzinfo=None, microsecond=0)


class _Names:
    """Org node names by id, and a path ("/1/4/17/") in names, remembered for the job."""

    def __init__(self):
        self.names = dict(db.session.execute(select(OrgNode.id, OrgNode.name)).all())
        self._paths: dict[str, str] = {}

    def path(self, path: str) -> str:
        named = self._paths.get(path)
        if named is None:
            ids = [int(part) for part in path.strip("/").split("/") if part.isdigit()]
            named = self._paths[path] = " / ".join(self.names.get(i, str(i)) for i in ids)
        return named


def _batches(stmt) -> Iterable:
    yield from db.session.execute(stmt.execution_options(yield_per=BATCH))


def issue_rows(node: OrgNode, period: Period, names: _Names):
    header = [_("Number"), _("Title"), _("Org path"), _("Place"), _("Kind"), _("Category"), _("Sub-category"),
              _("State"), _("Level responsible"), _("Org unit responsible"), _("Raised at"),
              _("State entered at"), _("Deadline"), _("Open"), _("Outcome"), _("Satisfaction"),
              _("Escalations")]
    stmt = (
        select(RenovationIssue.id, RenovationIssue.title, RenovationIssue.path, Estate.name.label("estate"),
               Building.number.label("building"), StairwellUnit.number.label("unit"), Household.room,
               RenovationIssue.direction, RenovationIssue.category, RenovationIssue.subcategory,
               RenovationIssue.state, RenovationIssue.responsible_org_id, RenovationIssue.created_at,
               RenovationIssue.state_entered_at, RenovationIssue.due_at, RenovationIssue.open,
               RenovationIssue.public_note, RenovationIssue.satisfaction, RenovationIssue.escalations)
        .join(Estate, Estate.id == RenovationIssue.estate_id)
        .outerjoin(Building, Building.id == RenovationIssue.building_id)
        .outerjoin(StairwellUnit, StairwellUnit.id == RenovationIssue.unit_id)
        .outerjoin(Household, Household.id == RenovationIssue.household_id)
        .where(under_path(RenovationIssue.path, node.path), RenovationIssue.created_at >= period.start,
               RenovationIssue.created_at < period.end)
        .order_by(RenovationIssue.id)
    )
    kinds = {"demand": _("Demand"), "task": _("Plan item")}
    state_labels = {name: str(s.label) for name, s in WORKFLOW.states.items()}
    level_labels = {name: str(LEVEL_LABELS[s.level]) if s.level in LEVEL_LABELS else ""
                    for name, s in WORKFLOW.states.items()}
    category_labels = {code: str(label) for code, label in categories.CATEGORIES.items()}

    yes_no = {True: _("Yes"), False: _("No")}

    def rows():
        for r in _batches(stmt):
            place = " ".join(p for p in (r.estate, r.building, r.unit, r.room) if p)
            yield [r.id, r.title, names.path(r.path), place, kinds.get(r.direction, r.direction),
                   category_labels.get(r.category, r.category), r.subcategory, state_labels.get(r.state, r.state),
                   level_labels.get(r.state, ""), names.names.get(r.responsible_org_id, ""),
                   _local(r.created_at), _local(r.state_entered_at), _local(r.due_at),
                   yes_no[bool(r.open)], r.public_note, r.satisfaction, r.escalations]

    return header, rows()


VOTE_FIGURES = ("entitled_area", "entitled_heads", "participating_area", "participating_heads", "agreeing_area",
                "agreeing_heads", "disagreeing_area", "disagreeing_heads", "abstaining_area", "abstaining_heads")


def vote_rows(node: OrgNode, period: Period, names: _Names):
    header = [_("Vote"), _("Title"), _("Issue"), _("Electorate"), _("Rule"), _("State"), _("Opened at"),
              _("Closed at"), _("Passed?"), _("Entitled area (m²)"), _("Entitled owners"), _("Participating area"),
              _("Participating owners"), _("Agreeing area"), _("Agreeing owners"), _("Disagreeing area"),
              _("Disagreeing owners"), _("Abstaining area"), _("Abstaining owners"), _("Checks")]
    stmt = (select(Vote.id, Vote.title, Vote.target_type, Vote.target_id, Vote.scope_label, Vote.rule_name,
                   Vote.state, Vote.opened_at, Vote.closed_at, Vote.passed, Vote.result_json)
            .where(under_path(Vote.path, node.path), Vote.opened_at >= period.start, Vote.opened_at < period.end)
            .order_by(Vote.id))
    states = {"open": _("Open for ballots"), "closed": _("Closed and counted"), "cancelled": _("Cancelled")}

    def rows():
        for r in _batches(stmt):
            result = json.loads(r.result_json) if r.result_json else {}
            figures = [result.get(name) for name in VOTE_FIGURES]
            checks = "; ".join(
                f"{c['name']}: {c['part']}/{c['whole']} ({'≥' if c['inclusive'] else '>'} {c['required']}) "
                f"{'✓' if c['met'] else '✗'}" for c in result.get("checks", []))
            passed = None if r.passed is None else (_("Yes") if r.passed else _("No"))
            yield [r.id, r.title, r.target_id if r.target_type == "renovation_issue" else None, r.scope_label,
                   r.rule_name, states.get(r.state, r.state), _local(r.opened_at), _local(r.closed_at), passed,
                   *figures, checks]

    return header, rows()


def dispatch_rows(node: OrgNode, period: Period, names: _Names):
    header = [_("Task"), _("Title"), _("Kind"), _("Launched by"), _("Launched at"), _("Branch"), _("State"),
              _("Households in scope"), _("Households reached"), _("Consents"), _("Reported at"), _("Escalations")]
    branch = aliased(OrgNode)
    stmt = (select(Dispatch.id, Dispatch.title, Dispatch.kind, Dispatch.origin_org_id, Dispatch.created_at,
                   DispatchAssignment.org_id, DispatchAssignment.state, DispatchAssignment.households,
                   DispatchAssignment.reached, DispatchAssignment.consents, DispatchAssignment.reported_at,
                   DispatchAssignment.escalations)
            .join(DispatchAssignment, DispatchAssignment.dispatch_id == Dispatch.id)
            .join(branch, branch.id == DispatchAssignment.org_id)
            .where(under_path(branch.path, node.path), Dispatch.created_at >= period.start,
                   Dispatch.created_at < period.end)
            .order_by(Dispatch.id, branch.path, DispatchAssignment.id))
    state_labels = {name: str(s.label) for name, s in DISPATCH_WORKFLOW.states.items()}

    def rows():
        for r in _batches(stmt):
            yield [r.id, r.title, r.kind, names.names.get(r.origin_org_id, ""), _local(r.created_at),
                   names.names.get(r.org_id, ""), state_labels.get(r.state, r.state), r.households, r.reached,
                   r.consents, _local(r.reported_at), r.escalations]

    return header, rows()


def acceptance_rows(node: OrgNode, period: Period, names: _Names, base_url: str):
    header = [_("Inspection"), _("Issue"), _("Estate"), _("State"), _("Parties"), _("Round"), _("Opened at"),
              _("Accepted at"), _("Signed record"), _("Verification")]
    stmt = (select(JointInspection.id, JointInspection.issue_id, Estate.name.label("estate"), JointInspection.state,
                   JointInspection.parties, JointInspection.round, JointInspection.created_at,
                   JointInspection.accepted_at, StoredDocument.reference)
            .join(Estate, Estate.id == JointInspection.estate_id)
            .outerjoin(StoredDocument, StoredDocument.id == JointInspection.record_document_id)
            .where(under_path(JointInspection.path, node.path), JointInspection.created_at >= period.start,
                   JointInspection.created_at < period.end)
            .order_by(JointInspection.id))
    state_labels = {name: str(s.label) for name, s in JointInspection.workflow.states.items()}

    def rows():
        for r in _batches(stmt):
            parties = "、".join(str(PARTIES[c].label) if c in PARTIES else c
                               for c in (r.parties or "").split(",") if c)
            record = verify = None
            if r.reference:
                record = f"{base_url}/acceptance/{r.id}/record.pdf"
                verify = f"{base_url}/verify/{r.reference}"
            yield [r.id, r.issue_id, r.estate, state_labels.get(r.state, r.state), parties, r.round,
                   _local(r.created_at), _local(r.accepted_at), record, verify]

    return header, rows()


def dispute_rows(node: OrgNode, period: Period, names: _Names):
    header = [_("Issue"), _("Title"), _("Time"), _("Step"), _("From"), _("To"), _("Acted by"), _("Reason"),
              _("Agreement or judgment number")]
    stmt = (select(AuditEntry.subject_id, RenovationIssue.title, AuditEntry.created_at, AuditEntry.trigger,
                   AuditEntry.from_state, AuditEntry.to_state, AuditEntry.actor_name, AuditEntry.reason,
                   AuditEntry.payload)
            .join(RenovationIssue, and_(AuditEntry.subject_type == RenovationIssue.subject_type,
                                        AuditEntry.subject_id == RenovationIssue.id))
            .where(AuditEntry.trigger.in_(DISPUTE_TRIGGERS), under_path(RenovationIssue.path, node.path),
                   AuditEntry.created_at >= period.start, AuditEntry.created_at < period.end)
            .order_by(AuditEntry.subject_id, AuditEntry.seq))

    def rows():
        for r in _batches(stmt):
            data = json.loads(r.payload or "{}")
            reference = data.get("agreement_ref") or data.get("judgment_ref") or ""
            yield [r.subject_id, r.title, _local(r.created_at), str(WORKFLOW.event_label(r.trigger)),
                   str(WORKFLOW.state_label(r.from_state) or ""), str(WORKFLOW.state_label(r.to_state)),
                   r.actor_name, r.reason, reference]

    return header, rows()


def write_ledger(node: OrgNode, period: Period, target, progress=None, base_url: str = "") -> int:
    """Write the ledger workbook to `target` (a path or file object); returns the data rows written.
    An empty ledger is a workbook whose sheets hold their header row only."""
    names = _Names()
    workbook = Workbook(write_only=True)
    sheets = [
        (_("Issues"), issue_rows(node, period, names)),
        (_("Votes"), vote_rows(node, period, names)),
        (_("Dispatches"), dispatch_rows(node, period, names)),
        (_("Acceptances"), acceptance_rows(node, period, names, base_url)),
        (_("Disputes"), dispute_rows(node, period, names)),
    ]
    written = 0
    for title, (header, rows) in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(header)
        for values in rows:
            sheet.append(xlsx.row(sheet, values))
            written += 1
            if progress is not None and written % PROGRESS_ROWS == 0:
                progress(written)
    workbook.save(target)
    return written


# --- running a job ------------------------------------------------------------------------


def _claim(job_id: int) -> bool:
    table = LedgerJob.__table__
    with db.engine.begin() as connection:
        return connection.execute(table.update().where(table.c.id == job_id, table.c.status == QUEUED)
                                  .values(status=RUNNING, updated_at=utcnow())).rowcount == 1


def run_job(job_id: int, base_url: str = "") -> Optional[str]:
    """Write the job's ledger and keep it in storage; returns the final status (None when
    another runner had taken the job)."""
    if not _claim(job_id):
        return None
    job = db.session.get(LedgerJob, job_id)
    node, period, locale = job.org, job.period, job.locale
    db.session.rollback()
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        with force_locale(locale):
            written = write_ledger(node, period, path, progress=lambda n: _update(job_id, rows_done=n),
                                   base_url=base_url)
            summary = _("%(n)d rows written.", n=written)
        with open(path, "rb") as source:
            data = source.read()
        digest = storage.put(data)
        db.session.rollback()
        _update(job_id, status=DONE, rows_done=written, rows_total=written, sha256=digest, size=len(data),
                summary=summary, finished_at=utcnow())
        return DONE
    except Exception:  # noqa: BLE001 - whatever broke, the job must not stay "running"
        db.session.rollback()
        current_app.logger.exception("ledger job %d failed", job_id)
        with force_locale(locale):
            message = _("Something went wrong on our side. Nothing was saved.")
        _update(job_id, status=FAILED, summary=message, finished_at=utcnow())
        return FAILED
    finally:
        os.unlink(path)


def fail_stale_jobs(now: datetime | None = None) -> int:
    """Mark queued and running jobs without a sign of life for LEDGER_STALE_MINUTES as
    failed, in the language they were asked in (a process died while writing, or before
    it began): the page then says so instead of waiting forever. Returns how many."""
    minutes = int(current_app.config.get("LEDGER_STALE_MINUTES", STALE_MINUTES))
    before = (now or utcnow()) - timedelta(minutes=minutes)
    stale = db.session.execute(
        select(LedgerJob.id, LedgerJob.locale)
        .where(LedgerJob.status.in_((QUEUED, RUNNING)), LedgerJob.updated_at < before)
    ).all()
    db.session.rollback()
    table = LedgerJob.__table__
    failed = 0
    for job_id, locale in stale:
        with force_locale(locale):
            message = _("The ledger stopped without finishing: no sign of progress for %(minutes)d minutes. "
                        "Please ask for it again.", minutes=minutes)
        with db.engine.begin() as connection:
            failed += connection.execute(
                table.update().where(table.c.id == job_id, table.c.status.in_((QUEUED, RUNNING)),
                                     table.c.updated_at < before)
                .values(status=FAILED, summary=message, finished_at=utcnow(), updated_at=utcnow())
            ).rowcount
    return failed


def sweep_step(now: datetime | None = None) -> dict[str, int]:
    return {"ledger_jobs_failed": fail_stale_jobs(now)}


def run_queued_jobs(base_url: str = "") -> list[int]:
    ran = []
    while True:
        job_id = db.session.scalar(select(LedgerJob.id).where(LedgerJob.status == QUEUED)
                                   .order_by(LedgerJob.id).limit(1))
        db.session.rollback()
        if job_id is None:
            return ran
        if run_job(job_id, base_url) is not None:
            ran.append(job_id)


def start_thread(job_id: int, base_url: str) -> threading.Thread:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(target=_run_in_thread, args=(app, job_id, base_url), name=f"ledger-{job_id}")
    thread.start()
    return thread


def _run_in_thread(app, job_id: int, base_url: str) -> None:
    with app.app_context(), _one_job_at_a_time:
        try:
            run_job(job_id, base_url)
        except Exception:  # noqa: BLE001 - a thread has no caller to tell: log it
            app.logger.exception("ledger job %d could not be run", job_id)
        finally:
            db.session.remove()
