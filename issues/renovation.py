"""The renovation issue workflow, declared as data.

Demands travel up the five levels (member household → building group → grid →
community → street); each level may resolve, escalate, return down with a reason,
merge a duplicate or reject with a reason residents can read. Issues included in
the estate plan walk consultation, vote, public notice, construction, joint
acceptance (with rectification) and long-term management to closed. A dispute
branch (negotiation → mediation → written agreement, or litigation) can be entered
from the middle states and returns to the state it left.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.errors import ValidationError
from core.photos import validate as validate_photos
from core.extensions import db
from orgs import roles as R
from orgs.permissions import register
from workflow.diagram import Drawing
from workflow.engine import Condition, State, Transition, Workflow
from issues import procedure_hooks as procedures
from issues import satisfaction
from issues.models import RenovationIssue, plan_for, store_photos

# --- actions (who may do what, scoped to the org subtree or to their own items) ---

STAFF_VIEW = (
    R.STREET_OFFICER, R.COMMUNITY_OFFICER, R.GRID_WORKER, R.BUILDING_GROUP_LEADER,
    R.OWNERS_COMMITTEE, R.PROPERTY_COMPANY, R.CONSTRUCTION_COMPANY, R.SUPERVISION_COMPANY,
)
register("issue.view", subtree=STAFF_VIEW, own=(R.RESIDENT, R.MEMBER_HOUSEHOLD), reach=True)
register(
    "issue.raise",
    subtree=(R.STREET_OFFICER, R.COMMUNITY_OFFICER, R.GRID_WORKER, R.BUILDING_GROUP_LEADER),
    own=(R.RESIDENT, R.MEMBER_HOUSEHOLD),
    reach=True,
)
register("issue.launch", subtree=(R.STREET_OFFICER, R.COMMUNITY_OFFICER))
register("issue.act_member", own=(R.MEMBER_HOUSEHOLD,))
register("issue.act_building", subtree=(R.BUILDING_GROUP_LEADER,))
register("issue.act_grid", subtree=(R.GRID_WORKER,))
register("issue.act_community", subtree=(R.COMMUNITY_OFFICER,))
register("issue.act_street", subtree=(R.STREET_OFFICER,))
register("issue.plan", subtree=(R.COMMUNITY_OFFICER, R.STREET_OFFICER))
register("issue.report_progress", subtree=(R.CONSTRUCTION_COMPANY, R.SUPERVISION_COMPANY, R.COMMUNITY_OFFICER))
register("issue.accept", subtree=(R.COMMUNITY_OFFICER, R.STREET_OFFICER))
register(
    "issue.dispute_raise",
    subtree=(R.STREET_OFFICER, R.COMMUNITY_OFFICER, R.GRID_WORKER, R.BUILDING_GROUP_LEADER, R.OWNERS_COMMITTEE),
    own=(R.RESIDENT, R.MEMBER_HOUSEHOLD),
    reach=True,
)
register("issue.dispute", subtree=(R.COMMUNITY_OFFICER, R.STREET_OFFICER, R.GRID_WORKER))
register("issue.rate", own=(R.RESIDENT,))
# Entering a household's answer collected on paper or at the door (satisfaction.py checks
# the household itself: the member household's own neighbours, the grid's households).
register("issue.rate_enter", subtree=(R.GRID_WORKER, R.BUILDING_GROUP_LEADER), own=(R.MEMBER_HOUSEHOLD,), reach=True)
register("issue.close", subtree=(R.COMMUNITY_OFFICER, R.STREET_OFFICER))

# --- states ------------------------------------------------------------------------

REVIEW_LEVELS = [
    ("review_household", "member_household", "issue.act_member",
     _l("At the Party member household"), _l("Your Party member household is passing it on")),
    ("review_building", "building_group", "issue.act_building",
     _l("Review by the building Party group"), _l("The building Party group is looking at it")),
    ("review_grid", "grid_branch", "issue.act_grid",
     _l("Review by the grid Party branch"), _l("The grid worker is checking it")),
    ("review_community", "community_committee", "issue.act_community",
     _l("Review by the community Party committee"), _l("The community is deciding on it")),
    ("review_street", "street_committee", "issue.act_street",
     _l("Review by the street Party working committee"), _l("The sub-district is deciding on it")),
]
MIDDLE_STATES = ("planned", "consultation", "voting", "public_notice", "construction", "acceptance", "rectification")

STATES = [
    *(State(name, label, level=level, public_label=public) for name, level, _a, label, public in REVIEW_LEVELS),
    State("resolved", _l("Resolved"), level="community_committee", deadline=False,
          public_label=_l("Resolved: please tell us whether you are satisfied")),
    State("rejected", _l("Rejected"), terminal=True, public_label=_l("Not taken up (see the reason)")),
    State("merged", _l("Merged into another issue"), terminal=True,
          public_label=_l("Merged with the same demand raised by others")),
    State("planned", _l("In the estate plan"), level="community_committee",
          public_label=_l("Included in the estate's renovation plan")),
    State("consultation", _l("Consultation"), level="community_committee",
          public_label=_l("Residents are being consulted")),
    State("voting", _l("Vote"), level="community_committee", public_label=_l("Owners or residents are voting")),
    State("public_notice", _l("Public notice"), level="community_committee", deadline=False,
          public_label=_l("The decision is on public notice")),
    State("construction", _l("Construction"), level="community_committee", deadline=False,
          public_label=_l("Under construction")),
    State("acceptance", _l("Joint acceptance"), level="community_committee",
          public_label=_l("The finished work is being inspected")),
    State("rectification", _l("Rectification"), level="community_committee",
          public_label=_l("Defects found at inspection are being put right")),
    State("long_term_management", _l("Long-term management"), level="community_committee", deadline=False,
          public_label=_l("Done; now in long-term management")),
    State("closed", _l("Closed"), terminal=True, public_label=_l("Closed")),
    State("negotiation", _l("Dispute: negotiation"), level="community_committee",
          public_label=_l("A dispute is being settled by negotiation")),
    State("mediation", _l("Dispute: people's mediation"), level="community_committee",
          public_label=_l("A dispute is in people's mediation")),
    State("litigation", _l("Dispute: litigation"), level="street_committee", deadline=False,
          public_label=_l("A dispute is before the court")),
]

# --- callbacks -------------------------------------------------------------------


def _note_public_reason(issue, ctx) -> None:
    issue.public_note = ctx.reason


def _remember_resume_state(issue, ctx) -> None:
    issue.resume_state = ctx.from_state
    ctx.payload["resume_state"] = ctx.from_state


def _clear_resume_state(issue, ctx) -> None:
    issue.resume_state = None


def _merge(issue, ctx) -> None:
    try:
        target_id = int(ctx.data.get("merge_into"))
    except (TypeError, ValueError):
        raise ValidationError(_("Give the number of the issue to merge into."), fields={"merge_into": _("Invalid number.")})
    target = db.session.get(RenovationIssue, target_id)
    if target is None or target.id == issue.id or target.estate_id != issue.estate_id or not target.open:
        raise ValidationError(
            _("Issues can only be merged into another open issue of the same estate."),
            fields={"merge_into": _("Invalid number.")},
        )
    issue.merged_into_id = target.id
    issue.public_note = ctx.reason or _("Merged into issue %(id)d.", id=target.id)
    ctx.payload["merged_into"] = target.id


def _include_in_plan(issue, ctx) -> None:
    plan = plan_for(issue.estate)
    issue.plan = plan
    ctx.payload["plan_id"] = plan.id


def _record_progress(issue, ctx) -> None:
    """A progress report says what was done (a note or photos of the site) and never goes
    backwards: residents follow the figure."""
    try:
        progress = int(ctx.data.get("progress"))
    except (TypeError, ValueError):
        progress = -1
    if not 0 <= progress <= 100:
        raise ValidationError(_("Progress must be a whole number from 0 to 100."), fields={"progress": _("Invalid number.")})
    if progress < issue.progress:
        raise ValidationError(_("Progress cannot go backwards: it is %(current)d%% now.", current=issue.progress),
                              fields={"progress": _("Less than the progress already reported.")})
    photos = list(ctx.data.get("photos") or [])
    validate_photos(photos)
    if not ctx.reason and not photos:
        raise ValidationError(_("Say what was done, or add photos of the work."),
                              fields={"reason": _("Add a note or a photo.")})
    store_photos(issue, ctx.actor, photos)
    issue.progress = progress
    ctx.payload["progress"] = progress
    if photos:
        ctx.payload["photos"] = len(photos)


def _finish(issue, ctx) -> None:
    issue.progress = 100


def _record_reference(key):
    def callback(issue, ctx) -> None:
        ctx.payload[key] = (ctx.data.get(key) or "").strip()

    return callback


def _mark_closed(issue, ctx) -> None:
    issue.open = False


def _remember_resolving_level(issue, ctx) -> None:
    """Where a "not satisfied" answer sends the item back to (kept in resume_state, which
    only disputes use otherwise, and they are never raised from "resolved")."""
    issue.resume_state = ctx.from_state


def _resume_is(state_name: str) -> Condition:
    return Condition(lambda issue, ctx: issue.resume_state == state_name, _l("The dispute returns elsewhere."))


def _resolved_at(state_name: str) -> Condition:
    """The item was resolved at this level (items resolved before the level was recorded
    go back to the community)."""
    known = {name for name, *_ in REVIEW_LEVELS}
    return Condition(
        lambda issue, ctx: issue.resume_state == state_name
        or (state_name == "review_community" and issue.resume_state not in known),
        _l("The item was resolved at another level."))


# --- transitions -------------------------------------------------------------------


def _review_transitions() -> list[Transition]:
    result = []
    for index, (name, _level, action, _label, _public) in enumerate(REVIEW_LEVELS):
        if index + 1 < len(REVIEW_LEVELS):
            result.append(Transition("escalate", (name,), REVIEW_LEVELS[index + 1][0], action,
                                     _l("Send up to the next level"), system=True, style="primary"))
        if index > 0:
            result.append(Transition("return_down", (name,), REVIEW_LEVELS[index - 1][0], action,
                                     _l("Send back down"), reason=True))
        result.append(Transition("resolve", (name,), "resolved", action, _l("Resolve at this level"),
                                 reason=True, before=(_remember_resolving_level,), after=(_note_public_reason,)))
        if index > 0:
            result.append(Transition("merge", (name,), "merged", action, _l("Merge into a duplicate"),
                                     fields=("merge_into",), before=(_merge,), after=(_mark_closed,)))
        result.append(Transition("reject", (name,), "rejected", action, _l("Reject"), reason=True,
                                 after=(_note_public_reason, _mark_closed), style="danger"))
    return result


def _dispute_transitions() -> list[Transition]:
    result = [
        Transition("raise_dispute", MIDDLE_STATES, "negotiation", "issue.dispute_raise", _l("Raise a dispute"),
                   reason=True, before=(_remember_resume_state,)),
        Transition("to_mediation", ("negotiation",), "mediation", "issue.dispute",
                   _l("Refer to people's mediation"), reason=True),
        Transition("to_litigation", ("negotiation", "mediation"), "litigation", "issue.dispute",
                   _l("Record that a party went to court"), reason=True),
        Transition("close_by_judgment", ("litigation",), "closed", "issue.dispute",
                   _l("Close after the judgment"), reason=True, fields=("judgment_ref",),
                   after=(_record_reference("judgment_ref"), _note_public_reason, _clear_resume_state, _mark_closed)),
    ]
    for state in MIDDLE_STATES:
        result += [
            Transition("settle", ("negotiation",), state, "issue.dispute", _l("Settled by negotiation"),
                       reason=True, conditions=(_resume_is(state),), after=(_clear_resume_state,)),
            Transition("record_agreement", ("mediation",), state, "issue.dispute",
                       _l("Record the written mediation agreement"), reason=True, fields=("agreement_ref",),
                       conditions=(_resume_is(state),),
                       after=(_record_reference("agreement_ref"), _clear_resume_state)),
            Transition("record_judgment", ("litigation",), state, "issue.dispute",
                       _l("Record the judgment and continue"), reason=True, fields=("judgment_ref",),
                       conditions=(_resume_is(state),),
                       after=(_record_reference("judgment_ref"), _clear_resume_state)),
        ]
    return result


def _rating_transitions() -> list[Transition]:
    """A household's answer (`rate` online, `record_rating` entered by staff): it stays in
    the state, unless "not satisfied" with a reason sends the item back - from "resolved"
    to the level that resolved it, after acceptance to rectification (satisfaction.py)."""
    result = []
    for trigger, permission, label in (
        ("rate", "issue.rate", _l("Rate your satisfaction")),
        ("record_rating", "issue.rate_enter", _l("Enter a household's answer (paper or visit)")),
    ):
        result += [
            Transition(trigger, (state,), state, permission, label, fields=("satisfaction",),
                       conditions=(satisfaction.NOT_RATED_LOW,) if state != "closed" else (),
                       before=(satisfaction.record,))
            for state in satisfaction.RATING_STATES
        ]
        result += [
            Transition(trigger, ("resolved",), name, permission, label, fields=("satisfaction",),
                       conditions=(satisfaction.RATED_LOW, _resolved_at(name)),
                       before=(satisfaction.record,), after=(_clear_resume_state,))
            for name, *_ in REVIEW_LEVELS
        ]
        result.append(Transition(trigger, ("long_term_management",), "rectification", permission, label,
                                 fields=("satisfaction",), conditions=(satisfaction.RATED_LOW,),
                                 before=(satisfaction.record,)))
    return result


TRANSITIONS = [
    *_review_transitions(),
    Transition("include_in_plan", ("review_community", "review_street"), "planned", "issue.plan",
               _l("Include in the estate plan"), after=(_include_in_plan,), style="primary"),
    Transition("start_consultation", ("planned",), "consultation", "issue.plan", _l("Start consultation"),
               style="primary"),
    Transition("open_vote", ("consultation",), "voting", "issue.plan", _l("Put to the vote"),
               after=(procedures.open_vote,), style="primary"),
    Transition("skip_vote", ("consultation",), "public_notice", "issue.plan",
               _l("No vote needed: go to public notice"), reason=True, after=(procedures.publish_notice,)),
    Transition("vote_passed", ("voting",), "public_notice", "issue.plan", _l("Record that the vote passed"),
               conditions=(procedures.VOTE_PASSED,), after=(procedures.publish_notice,), style="primary"),
    Transition("vote_failed", ("voting",), "planned", "issue.plan", _l("Record that the vote failed: revise the plan"),
               reason=True, conditions=(procedures.VOTE_FAILED,), after=(_note_public_reason,)),
    Transition("withdraw", ("planned", "consultation", "voting"), "closed", "issue.plan", _l("Withdraw the item"),
               reason=True, after=(_note_public_reason, _mark_closed, procedures.cancel_open_vote), style="danger"),
    Transition("start_construction", ("public_notice",), "construction", "issue.plan", _l("Start construction"),
               conditions=(procedures.NOTICE_OVER, procedures.OBJECTIONS_SETTLED), style="primary"),
    Transition("report_progress", ("construction",), "construction", "issue.report_progress",
               _l("Report progress"), fields=("progress",), before=(_record_progress,)),
    Transition("finish_construction", ("construction",), "acceptance", "issue.report_progress",
               _l("Construction finished: request acceptance"), after=(_finish,),
               style="primary"),
    # The joint inspection fires these two itself (as the system actor) when it concludes;
    # acceptance/hooks.py attaches the inspection's conditions and callbacks to them.
    Transition("accept", ("acceptance",), "long_term_management", "issue.accept", _l("Accept the work"),
               system=True, style="primary"),
    Transition("require_rectification", ("acceptance",), "rectification", "issue.accept",
               _l("Require rectification"), reason=True, system=True),
    Transition("request_reinspection", ("rectification",), "acceptance", "issue.report_progress",
               _l("Rectified: request re-inspection"), style="primary"),
    # A household is not satisfied (the standing rating is low): close only with a reason.
    Transition("close", ("resolved", "long_term_management"), "closed", "issue.close",
               _l("Close despite the low rating"), reason=True, conditions=(satisfaction.STANDING_LOW,),
               after=(_note_public_reason, _mark_closed)),
    Transition("close", ("resolved", "long_term_management"), "closed", "issue.close", _l("Close"),
               conditions=(satisfaction.NOT_STANDING_LOW,), after=(_mark_closed,)),
    *_dispute_transitions(),
    *_rating_transitions(),
]

# Audit entries that are not transitions of the workflow.
EVENT_LABELS = {
    "create": _l("Raised"),
    "launch": _l("Launched from above"),
    "overdue_escalation": _l("Referred up after the deadline passed"),
    "add_photos": _l("Photos added"),
}

WORKFLOW = Workflow("renovation_issue", STATES, TRANSITIONS, initial="review_household", event_labels=EVENT_LABELS)
RenovationIssue.workflow = WORKFLOW
DRAWING = Drawing(WORKFLOW, hidden=frozenset({"rate", "record_rating"}))


def initial_state_for(issue) -> str:
    """Demands start at the first level that has someone to answer for them."""
    for name, level, *_ in REVIEW_LEVELS:
        if issue.responsible_org_for(WORKFLOW.state(name)) is not None:
            return name
    return "review_community"
