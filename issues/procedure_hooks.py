"""Where the renovation workflow meets the vote and notice procedures.

issues/renovation.py attaches these conditions and callbacks to its transitions:
`open_vote` opens the vote (with the electorate snapshot), `vote_passed` /
`vote_failed` follow the closed vote's result, entering `public_notice` publishes the
notice, `withdraw` cancels an open vote, and `start_construction` waits for the end
of the notice period and for every objection to be answered or withdrawn.

Issues use the procedures; the procedures know nothing of issues (they report a
closed vote through the target's hooks, registered in issues/targets.py).
"""
from __future__ import annotations

from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.extensions import db
from procedures import notice, voting
from procedures.subjects import resolve
from rules import tally
from workflow import engine
from workflow.engine import Condition

TARGET = "renovation_issue"


def open_vote(issue, ctx) -> None:
    """`open_vote` callback: the vote opens with the issue's transition."""
    target = resolve(TARGET, issue.id)
    vote = voting.create_vote(ctx.actor, target, voting.VoteOptions.from_data(ctx.data))
    ctx.payload["vote_id"] = vote.id


def cancel_open_vote(issue, ctx) -> None:
    """`withdraw` callback: an open vote on a withdrawn issue is cancelled with the same reason."""
    for vote in voting.votes_for(TARGET, issue.id):
        if vote.state == "open":
            engine.fire(voting.Vote, vote.id, "cancel", ctx.actor, None, reason=ctx.reason)


def _notice_text(issue, ctx) -> str:
    """The decision put on notice: the item, and the vote result or why no vote was needed."""
    lines = [issue.title]
    if issue.description:
        lines.append(issue.description)
    vote = voting.latest_vote(TARGET, issue.id)
    if ctx.trigger == "vote_passed" and vote is not None and vote.state == "closed":
        lines += tally.describe(voting.stored_result(vote))
    elif ctx.reason:
        lines.append(_("No vote was needed: %(reason)s", reason=ctx.reason))
    lines.append(_("Written objections may be filed with the community until the notice period ends."))
    return "\n".join(lines)


def publish_notice(issue, ctx) -> None:
    """Callback on entering public_notice: publish the notice with the period of the city policy."""
    target = resolve(TARGET, issue.id)
    vote = voting.latest_vote(TARGET, issue.id) if ctx.trigger == "vote_passed" else None
    text = notice.clean_text(ctx.data.get("notice_text"), notice.MAX_TEXT) or _notice_text(issue, ctx)
    published = notice.create_notice(ctx.actor, target, title=_("Public notice: %(title)s", title=issue.title),
                                     body=text, days=notice.notice_days(issue.subcategory),
                                     vote_id=vote.id if vote is not None else None)
    ctx.payload["notice_id"] = published.id


def latest_vote_outcome(issue) -> Optional[bool]:
    """True/False: the issue's latest vote closed and passed/failed; None: no closed vote."""
    vote = voting.latest_vote(TARGET, issue.id)
    if vote is None or vote.state != "closed":
        return None
    return bool(vote.passed)


def _vote_outcome_is(expected: bool):
    return lambda issue, ctx: latest_vote_outcome(issue) is expected


def _notice_over(issue, ctx) -> bool:
    """The issue's notice was published and its period has passed."""
    published = notice.latest_notice(TARGET, issue.id)
    return published is not None and published.period_over()


def _objections_settled(issue, ctx) -> bool:
    """No objection to the issue's notice is still awaiting an answer."""
    published = notice.latest_notice(TARGET, issue.id)
    if published is None:
        return False
    waiting = db.session.scalar(
        select(func.count()).select_from(notice.Objection)
        .where(notice.Objection.notice_id == published.id, notice.Objection.status == "open")
    )
    return not waiting


VOTE_PASSED = Condition(_vote_outcome_is(True), _l("The vote has not closed with a pass."))
VOTE_FAILED = Condition(_vote_outcome_is(False), _l("The vote has not closed with a fail."))
NOTICE_OVER = Condition(_notice_over, _l("The public notice period has not ended yet."))
OBJECTIONS_SETTLED = Condition(
    _objections_settled, _l("Every written objection must be answered or withdrawn first.")
)
