"""Renovation issues and estate plans as targets of consultation, votes and notices.

Registered with procedures/subjects.py together with the hooks through which the
procedures report back: an issue's vote opens through the issue's own `open_vote`
transition, and a closed vote moves an issue in its voting state on (passed → public
notice; failed → back to the plan for revision, or withdrawn).
"""
from __future__ import annotations

from typing import Optional

from flask_babel import lazy_gettext as _l

from core.db import write_transaction
from core.extensions import db
from issues.models import EstatePlan, RenovationIssue
from procedures import voting
from orgs import permissions
from procedures.subjects import Target, acts_within, lives_in_estate, register_target
from rules.policy import current_policy
from rules.tally import SubjectKind
from workflow import engine


def _issue(ident: int) -> Optional[Target]:
    issue = db.session.get(RenovationIssue, ident)
    if issue is None:
        return None
    return Target("renovation_issue", issue.id, issue, issue.estate_id, issue.path,
                  f"#{issue.id} {issue.title}", current_policy().vote_kind(issue.subcategory), issue.subcategory)


def _plan(ident: int) -> Optional[Target]:
    plan = db.session.get(EstatePlan, ident)
    if plan is None:
        return None
    return Target("estate_plan", plan.id, plan, plan.estate_id, plan.path, plan.title,
                  SubjectKind.RENOVATION_PLAN)


def _open_vote_by_transition(actor, issue_id: int, options: voting.VoteOptions, version: int | None) -> voting.Vote:
    data = {"scope_kind": options.scope_kind, "scope_id": options.scope_id, "rule": options.rule_name,
            "vote_title": options.title, "closes_on": options.closes_on}
    with write_transaction():
        engine.fire(RenovationIssue, issue_id, "open_vote", actor, version,
                    **{key: value for key, value in data.items() if value is not None})
        vote = voting.latest_vote("renovation_issue", issue_id)
    return vote


def _vote_closed(vote: voting.Vote, actor, on_failure: str, reason: str) -> None:
    issue = db.session.get(RenovationIssue, vote.target_id)
    if issue is None or issue.state != "voting":
        return  # e.g. in a dispute: the result is recorded when the issue returns
    if vote.passed:
        engine.fire(RenovationIssue, issue.id, "vote_passed", actor, None)
        return
    trigger = "vote_failed" if on_failure == "revise" else "withdraw"
    text = voting.failure_reason(vote) + (" " + reason if reason else "")
    engine.fire(RenovationIssue, issue.id, trigger, actor, None, reason=text)


def _visible(actor, issue: RenovationIssue) -> bool:
    """Who may see an issue's consultation, votes and notices: whoever may see the issue;
    and, once it is an item of the estate plan, the estate's residents and the staff
    working in it (a neighbour's demand still in review stays private)."""
    if permissions.can(actor, "issue.view", issue):
        return True
    return issue.plan_id is not None and (lives_in_estate(actor, issue.estate_id)
                                          or acts_within(actor, issue.path, issue.estate_id))


register_target("renovation_issue", _issue, label=_l("Issue"),
                open_vote=_open_vote_by_transition, vote_closed=_vote_closed, visible=_visible)
register_target("estate_plan", _plan, label=_l("Estate plan"))
