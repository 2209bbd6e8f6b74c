"""Task force services: set up, members, meetings (recurring), attendance, minutes and their
signed PDF, action items, the meeting calendar. Each write is one transaction; every change
is audited in the hash chain of the task force or the meeting."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import lock, utcnow, write_transaction
from core.errors import InvalidTransition, NotFound, NotPermitted, ValidationError
from core.extensions import db
from dispatch import services as dispatch_services
from documents import services as documents
from documents.models import StoredDocument
from documents.pdf import render_template_pdf
from issues import services as issue_services
from orgs import permissions
from orgs.models import Estate, Household, HouseholdPerson, Membership, OrgNode, Person
from rules.calendar import LOCAL
from workflow import audit, engine
from taskforce.models import (
    ACTION_KINDS,
    PARTIES,
    TaskForceActionItem,
    TaskForceMeeting,
    TaskForce,
    TaskForceMember,
)

MAX_SERIES = 52
MINUTES_KIND = "taskforce_minutes"
MINUTES_TEMPLATE = "pdf/taskforce_minutes.html"
MINUTES_REASON = "工作专班会议纪要签署"


def invalid(fields: dict) -> ValidationError:
    return ValidationError(_("Some information is missing or invalid."), fields=fields)


def _clean(value, limit: int) -> str:
    return str(value or "").strip()[:limit]


def to_utc(local: datetime) -> datetime:
    """A wall-clock time in Asia/Shanghai as naive UTC (the database stores UTC)."""
    if local.tzinfo is None:
        local = local.replace(tzinfo=LOCAL)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def to_local(utc: datetime) -> datetime:
    return utc.replace(tzinfo=timezone.utc).astimezone(LOCAL)


# --- reading --------------------------------------------------------------------------


def get_task_force(actor, task_force_id: int) -> TaskForce:
    task_force = db.session.get(TaskForce, task_force_id)
    if task_force is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, "taskforce.view", task_force)
    return task_force


def task_force_of_estate(estate_id: int) -> TaskForce | None:
    return db.session.scalar(select(TaskForce).where(TaskForce.estate_id == estate_id))


def get_meeting(actor, meeting_id: int) -> TaskForceMeeting:
    meeting = db.session.get(TaskForceMeeting, meeting_id)
    if meeting is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, "taskforce.view", meeting)
    return meeting


def visible_task_forces(actor) -> list[TaskForce]:
    """Task forces in the actor's jurisdiction and those they are a member of."""
    paths = permissions.subtree_paths(actor, "taskforce.view")
    own = select(TaskForceMember.task_force_id).where(TaskForceMember.person_id == actor.id,
                                                      TaskForceMember.active.is_(True))
    return list(db.session.scalars(
        select(TaskForce).where(permissions.path_filter(TaskForce.path, paths) | TaskForce.id.in_(own))
        .options(selectinload(TaskForce.estate)).order_by(TaskForce.path, TaskForce.id).limit(500)
    ))


def estates_without_task_force(actor) -> list[Estate]:
    paths = permissions.subtree_paths(actor, "taskforce.manage")
    return list(db.session.scalars(
        select(Estate).where(permissions.path_filter(Estate.path, paths),
                             Estate.id.not_in(select(TaskForce.estate_id))).order_by(Estate.code).limit(500)
    ))


def meetings_of(task_force: TaskForce) -> list[TaskForceMeeting]:
    return list(db.session.scalars(
        select(TaskForceMeeting).where(TaskForceMeeting.task_force_id == task_force.id)
        .order_by(TaskForceMeeting.starts_at, TaskForceMeeting.id)
    ))


def approved_minutes(estate_id: int) -> list[TaskForceMeeting]:
    """The estate's meetings whose minutes are signed (for the public estate plan page)."""
    return list(db.session.scalars(
        select(TaskForceMeeting).join(TaskForce, TaskForce.id == TaskForceMeeting.task_force_id)
        .where(TaskForce.estate_id == estate_id, TaskForceMeeting.state == "signed")
        .order_by(TaskForceMeeting.starts_at.desc())
    ))


def timeline(subject) -> list[audit.AuditEntry]:
    return audit.timeline(subject)


def available(actor, meeting: TaskForceMeeting):
    return meeting.workflow.available(meeting, actor)


# --- the task force and its members ---------------------------------------------------


def set_up(actor, estate_id: int, name: str = "") -> TaskForce:
    """The community (or street) committee sets up the estate's standing task force."""
    with write_transaction():
        estate = db.session.get(Estate, estate_id)
        if estate is None:
            raise NotFound(_("Not found."))
        permissions.require(actor, "taskforce.manage", estate)
        if task_force_of_estate(estate.id) is not None:
            raise InvalidTransition(_("This estate has a task force already."))
        task_force = TaskForce(estate=estate, convener_org_id=estate.org_id, path=estate.path,
                               name=_clean(name, 200) or _("Renovation task force of %(estate)s", estate=estate.name))
        engine.start(task_force, actor, payload={"estate_id": estate.id})
    return task_force


def add_member(actor, task_force_id: int, *, person_id, party: str, duty: str = "") -> TaskForceMember:
    errors = {}
    if party not in PARTIES:
        errors["party"] = _("Choose the party the member represents.")
    try:
        person_id = int(person_id)
    except (TypeError, ValueError):
        errors["person"] = _("Choose a person.")
    if errors:
        raise invalid(errors)
    with write_transaction():
        task_force = _locked_task_force(actor, task_force_id)
        person = db.session.get(Person, person_id)
        if person is None or not person.active:
            raise invalid({"person": _("Choose a person.")})
        if any(m.person_id == person.id and m.party == party for m in task_force.active_members):
            raise invalid({"person": _("This person is a member for this party already.")})
        member = TaskForceMember(task_force=task_force, person=person, party=party, duty=_clean(duty, 120))
        db.session.add(member)
        db.session.flush()
        engine.record_event(task_force, actor, "member_added",
                            payload={"member_id": member.id, "person_id": person.id, "party": party})
    return member


def remove_member(actor, task_force_id: int, member_id: int) -> None:
    with write_transaction():
        task_force = _locked_task_force(actor, task_force_id)
        member = next((m for m in task_force.active_members if m.id == member_id), None)
        if member is None:
            raise NotFound(_("Not found."))
        member.active = False
        engine.record_event(task_force, actor, "member_left", payload={"member_id": member.id})


def _locked_task_force(actor, task_force_id: int) -> TaskForce:
    task_force = lock(TaskForce, task_force_id)
    if task_force is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, "taskforce.manage", task_force)
    return task_force


def people_to_add(actor, task_force: TaskForce) -> list[Person]:
    """People who may join: those acting within the estate's community and its residents."""
    staff = select(Membership.person_id).join(OrgNode, OrgNode.id == Membership.org_id).where(
        permissions.path_filter(OrgNode.path, [p for p in _branch_paths(task_force)]))
    residents = select(HouseholdPerson.person_id).join(Household, Household.id == HouseholdPerson.household_id).where(
        Household.estate_id == task_force.estate_id)
    return list(db.session.scalars(
        select(Person).where(Person.active.is_(True), Person.id.in_(staff) | Person.id.in_(residents))
        .order_by(Person.name).limit(500)
    ))


def _branch_paths(task_force: TaskForce) -> list[str]:
    """The convening node's subtree and the street above it."""
    org = task_force.convener_org
    paths = [org.path]
    if org.parent is not None:
        paths.append(org.parent.path)
    return paths


# --- meetings -------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    title: str
    starts_at: datetime  # local wall-clock time (Asia/Shanghai)
    minutes_long: int = 90
    location: str = ""
    every_days: int = 0  # 0: a single meeting
    count: int = 1


def _check_schedule(schedule: Schedule, now: datetime) -> None:
    errors = {}
    if not _clean(schedule.title, 200):
        errors["title"] = _("Please give a short title.")
    if not 15 <= schedule.minutes_long <= 600:
        errors["minutes_long"] = _("Between 15 and 600 minutes.")
    if schedule.count < 1 or schedule.count > MAX_SERIES:
        errors["count"] = _("Between 1 and %(n)d meetings.", n=MAX_SERIES)
    if schedule.count > 1 and schedule.every_days not in (7, 14, 28):
        errors["every_days"] = _("Meetings repeat every week, every two weeks or every four weeks.")
    if errors:
        raise invalid(errors)
    if to_utc(schedule.starts_at) < now:
        raise ValidationError(
            _("A meeting in the past cannot be scheduled: it would have no minutes. Schedule it from now on."),
            fields={"starts_at": _("Time in the past.")})


def schedule_meetings(actor, task_force_id: int, schedule: Schedule) -> list[TaskForceMeeting]:
    """Schedule one meeting or a recurring series (every 1, 2 or 4 weeks)."""
    _check_schedule(schedule, utcnow())
    created = []
    with write_transaction():
        task_force = _locked_task_force(actor, task_force_id)
        series_id = None
        for index in range(schedule.count):
            starts = to_utc(schedule.starts_at + timedelta(days=schedule.every_days * index))
            meeting = TaskForceMeeting(task_force=task_force, title=_clean(schedule.title, 200), starts_at=starts,
                              ends_at=starts + timedelta(minutes=schedule.minutes_long),
                              location=_clean(schedule.location, 200), path=task_force.path, series_id=series_id)
            engine.start(meeting, actor, trigger="schedule",
                         payload={"starts_at": starts.isoformat(), "series": index + 1, "of": schedule.count})
            if schedule.count > 1 and series_id is None:
                series_id = meeting.id
                meeting.series_id = series_id
            created.append(meeting)
        engine.record_event(task_force, actor, "schedule", payload={"meetings": [m.id for m in created]})
    return created


def fire_meeting(actor, meeting_id: int, trigger: str, version: int | None, **data) -> TaskForceMeeting:
    if trigger == "sign":
        return sign_minutes(actor, meeting_id, version)
    return engine.fire(TaskForceMeeting, meeting_id, trigger, actor, version, **data)


def record_attendance(actor, meeting_id: int, version: int | None, present: list[int]) -> TaskForceMeeting:
    return engine.fire(TaskForceMeeting, meeting_id, "hold", actor, version, present=present)


def draft_minutes(actor, meeting_id: int, version: int | None, minutes: str, decisions: str = "") -> TaskForceMeeting:
    return engine.fire(TaskForceMeeting, meeting_id, "draft", actor, version, minutes=minutes, decisions=decisions)


def approve_minutes(actor, meeting_id: int, version: int | None) -> TaskForceMeeting:
    return engine.fire(TaskForceMeeting, meeting_id, "approve", actor, version)


# --- signed minutes -------------------------------------------------------------------


def minutes_context(meeting: TaskForceMeeting, reference: str) -> dict:
    """The PDF's context: plain Chinese strings."""
    task_force = meeting.task_force
    present = [row for row in meeting.attendance if row.present]
    absent = [row for row in meeting.attendance if not row.present]
    with force_locale("zh_Hans_CN"):
        return {
            "title": "老旧小区改造工作专班会议纪要",
            "subtitle": f"{task_force.estate.name} · {meeting.title}",
            "document_number": f"JY-{to_local(meeting.starts_at):%Y}-{meeting.id:05d}",
            "meeting": {"estate": task_force.estate.name, "task_force": task_force.name,
                        "convener": task_force.convener_org.name, "starts_at": meeting.starts_at,
                        "ends_at": meeting.ends_at, "location": meeting.location},
            "present": [{"name": r.member.person.name, "party": r.member.party_label, "duty": r.member.duty}
                        for r in present],
            "absent": [{"name": r.member.person.name, "party": r.member.party_label} for r in absent],
            "minutes": meeting.minutes,
            "decisions": meeting.decisions,
            "action_items": [{"title": item.title, "kind": str(ACTION_KINDS[item.kind]),
                              "reference": f"#{item.issue_id or item.dispatch_id}",
                              "due_on": item.due_on.isoformat()} for item in meeting.action_items],
            "signoffs": [{"name": r.member.person.name, "role": r.member.party_label, "decision": "approve",
                          "organization": r.member.duty, "comment": "", "time": r.approved_at} for r in present],
            "verify_url": documents.verify_url(reference),
        }


def build_minutes_pdf(meeting: TaskForceMeeting, reference: str) -> bytes:
    pdf = render_template_pdf(current_app.jinja_env, MINUTES_TEMPLATE, minutes_context(meeting, reference))
    return documents.sign_with_org(pdf, meeting.task_force.convener_org, reason=MINUTES_REASON,
                                   field_name="convener")


def sign_minutes(actor, meeting_id: int, version: int | None) -> TaskForceMeeting:
    """Render the approved minutes, sign them with the convening committee's key, store the
    PDF and move the meeting to "signed", all or nothing. The PDF is rendered and signed
    before the transaction (no row lock is held meanwhile); the transition then checks the
    state again under the lock: minutes signed twice answer 409 and nothing is stored."""
    meeting = get_meeting(actor, meeting_id)
    if meeting.state != "approved":
        raise InvalidTransition(_("This cannot be done while the item is in the state “%(state)s”.",
                                  state=meeting.workflow.state_label(meeting.state)))
    permissions.require(actor, "taskforce.manage", meeting)
    reference = documents.new_reference()
    pdf = build_minutes_pdf(meeting, reference)
    title = f"工作专班会议纪要 {meeting.title}"
    with write_transaction():
        document = documents.store(pdf, MINUTES_KIND, ("taskforce_meeting", meeting_id),
                                   filename=f"taskforce-minutes-{meeting_id}.pdf", title=title, reference=reference)
        meeting = engine.fire(TaskForceMeeting, meeting_id, "sign", actor, version, pdf=document)
    return meeting


def minutes_document(meeting: TaskForceMeeting) -> StoredDocument | None:
    if meeting.minutes_document_id is None:
        return None
    return db.session.get(StoredDocument, meeting.minutes_document_id)


# --- action items ---------------------------------------------------------------------


def _parse_due(raw) -> date:
    if isinstance(raw, date):
        due = raw
    else:
        try:
            due = date.fromisoformat(str(raw or "").strip())
        except ValueError:
            raise invalid({"due_on": _("Give a date as YYYY-MM-DD.")}) from None
    if due < datetime.now(LOCAL).date():
        raise invalid({"due_on": _("The deadline cannot be in the past.")})
    return due


def add_action_item(actor, meeting_id: int, *, title: str, description: str = "", kind: str, due_on,
                    category: str = "basic", subcategory: str = "") -> TaskForceActionItem:
    """A decision of the meeting becomes, in one step, an item of the estate plan (a renovation
    issue launched from above) or a task sent down the levels, with its deadline."""
    title = _clean(title, 200)
    errors = {}
    if not title:
        errors["title"] = _("Please give a short title.")
    if kind not in ACTION_KINDS:
        errors["kind"] = _("Choose whether it becomes an issue or a task sent down.")
    if errors:
        raise invalid(errors)
    due = _parse_due(due_on)
    with write_transaction():
        meeting = lock(TaskForceMeeting, meeting_id)
        if meeting is None or not permissions.can_see(actor, meeting):
            raise NotFound(_("Not found."))
        permissions.require(actor, "taskforce.manage", meeting)
        if meeting.state in ("scheduled", "cancelled"):
            raise InvalidTransition(_("Action items are decided at a meeting that has been held."))
        if any(item.title == title for item in meeting.action_items):
            raise invalid({"title": _("This meeting has an action item with this title already.")})
        estate = meeting.task_force.estate
        body = _clean(description, 5000) or title
        body = f"{body}\n{_('Deadline: %(date)s', date=due.isoformat())}"
        issue_id = dispatch_id = None
        if kind == "issue":
            issue_id = issue_services.launch_task(actor, title=title, description=body, category=category,
                                                  subcategory=subcategory, place_kind="estate", place_id=estate.id).id
        else:
            dispatch_id = dispatch_services.launch(actor, title=title, body=body, kind="plan_item",
                                                   origin_org_id=_launch_origin(actor, estate).id,
                                                   estate_id=estate.id).id
        item = TaskForceActionItem(meeting=meeting, title=title, kind=kind, due_on=due, created_by_id=actor.id,
                                   issue_id=issue_id, dispatch_id=dispatch_id)
        db.session.add(item)
        db.session.flush()
        engine.record_event(meeting, actor, "action_item", payload={
            "action_item_id": item.id, "kind": kind, "issue_id": item.issue_id, "dispatch_id": item.dispatch_id,
            "due_on": due.isoformat()})
    return item


def _launch_origin(actor, estate: Estate):
    """The deepest org node the actor launches tasks from that contains the estate."""
    origins = [node for node in dispatch_services.launch_origins(actor) if estate.path.startswith(node.path)]
    if not origins:
        raise NotPermitted(_("You are not permitted to do this."))
    return max(origins, key=lambda node: len(node.path))


def overdue_action_items(meeting: TaskForceMeeting, today: date | None = None) -> list[TaskForceActionItem]:
    today = today or datetime.now(LOCAL).date()
    return [item for item in meeting.action_items if item.due_on < today]


# --- the calendar (iCal, RFC 5545) ----------------------------------------------------


def task_force_by_feed(token: str) -> TaskForce:
    task_force = db.session.scalar(select(TaskForce).where(TaskForce.feed_token == token)) if token else None
    if task_force is None:
        raise NotFound(_("Not found."))
    return task_force


def _ical_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545 section 3.1), never inside a character."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode("utf-8")) > (75 if not out else 74):
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return "\r\n ".join(out)


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def ical(task_force: TaskForce, host: str = "wuji") -> str:
    """The task force's meetings as an iCalendar feed (cancelled ones as CANCELLED)."""
    now = utcnow()
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//wuji//taskforce//ZH", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_ical_text(task_force.name)}", "X-WR-TIMEZONE:Asia/Shanghai"]
    for meeting in meetings_of(task_force):
        lines += [
            "BEGIN:VEVENT",
            f"UID:taskforce-meeting-{meeting.id}@{host}",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(meeting.starts_at)}",
            f"DTEND:{_stamp(meeting.ends_at)}",
            f"SUMMARY:{_ical_text(meeting.title)}",
            f"LOCATION:{_ical_text(meeting.location)}",
            f"DESCRIPTION:{_ical_text(task_force.estate.name + ' · ' + task_force.name)}",
            f"STATUS:{'CANCELLED' if meeting.state == 'cancelled' else 'CONFIRMED'}",
            f"SEQUENCE:{meeting.version}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def is_member(person) -> bool:
    """Is the person an active member of any task force (residents among them)?"""
    return db.session.scalar(
        select(TaskForceMember.id).where(TaskForceMember.person_id == person.id,
                                         TaskForceMember.active.is_(True)).limit(1)
    ) is not None
