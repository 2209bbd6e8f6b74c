"""The lifecycle of a convention version, declared as data for the workflow engine.

draft → consultation (residents comment per article; the drafters answer each) →
street_review (the street Party working committee reviews) → voting (the rule
follows the kind of convention) → adopted → filed (备案 with the street: filing
number and date) → published (in force from the effective date; the version in
force before it becomes superseded in the same transaction). A published version
is later superseded by an amendment (a new version walking the same path) or
repealed. A failed vote or a street review that sends the text back returns it to
draft with the reason; an unfinished version can be withdrawn.

The callbacks live in conventions/lifecycle.py (they need the models, which import
this module for the workflow).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from orgs import roles as R
from orgs.permissions import register
from conventions import ballot, lifecycle
from conventions.models import OPEN_STATES, PUBLIC_STATES, STAFF_ONLY_STATES, ConventionVersion  # noqa: F401 - the groups, for importers
from workflow.engine import Condition, State, Transition, Workflow

# --- actions -----------------------------------------------------------------------

STAFF_VIEW = (
    R.STREET_OFFICER, R.COMMUNITY_OFFICER, R.GRID_WORKER, R.BUILDING_GROUP_LEADER, R.OWNERS_COMMITTEE,
    R.PROPERTY_COMPANY,
)
register("convention.view", subtree=STAFF_VIEW, own=(R.RESIDENT, R.MEMBER_HOUSEHOLD))
register("convention.draft", subtree=(R.COMMUNITY_OFFICER,))
register("convention.comment", own=(R.RESIDENT, R.MEMBER_HOUSEHOLD))
register("convention.answer", subtree=(R.COMMUNITY_OFFICER,))
register("convention.review", subtree=(R.STREET_OFFICER,))
register("convention.vote", subtree=(R.COMMUNITY_OFFICER,))
register("convention.file", subtree=(R.STREET_OFFICER,))
register("convention.publish", subtree=(R.COMMUNITY_OFFICER,))
register("convention.repeal", subtree=(R.STREET_OFFICER,))

# --- states ------------------------------------------------------------------------

BEFORE_ADOPTION = ("draft", "consultation", "street_review", "voting")

STATES = [
    State("draft", _l("Draft"), level="community_committee", deadline=False,
          public_label=_l("Being drafted")),
    State("consultation", _l("Consultation on the text"), level="community_committee", deadline=False,
          public_label=_l("Open for your comments")),
    State("street_review", _l("Review by the street"), level="street_committee", deadline=False,
          public_label=_l("Being reviewed by the sub-district")),
    State("voting", _l("Vote"), level="community_committee", deadline=False,
          public_label=_l("Put to the vote")),
    State("adopted", _l("Adopted, to be filed"), level="street_committee", deadline=False,
          public_label=_l("Adopted by the vote")),
    State("filed", _l("Filed, to be published"), level="community_committee", deadline=False,
          public_label=_l("Filed with the sub-district")),
    State("published", _l("In force"), deadline=False, public_label=_l("In force")),
    State("superseded", _l("Superseded"), terminal=True, public_label=_l("Replaced by a newer version")),
    State("repealed", _l("Repealed"), terminal=True, public_label=_l("Repealed")),
    State("withdrawn", _l("Withdrawn"), terminal=True, public_label=_l("Withdrawn")),
]


HAS_ARTICLES = Condition(lifecycle.has_articles, _l("The text has no articles yet."))
ALL_ANSWERED = Condition(
    lifecycle.all_comments_answered,
    _l("Every comment must be answered before the consultation is closed."),
)
VOTE_FAILS = Condition(lifecycle.entered_vote_fails, _l("The vote passed."))
VOTE_PASSES = Condition(lifecycle.entered_vote_passes, _l("The vote did not pass."))
VOTE_PASSED = Condition(
    lifecycle.vote_passed,
    _l("The vote has not passed: a convention is filed and published only after the vote adopts it."),
)
FILED = Condition(
    lifecycle.is_filed,
    _l("The convention has not been filed with the street: record the filing number and date first."),
)
NO_BALLOT = Condition(
    ballot.no_ballot,
    _l("A ballot of the households was opened for this vote: its result decides, not counts typed in."),
)
BALLOT_POSSIBLE = Condition(ballot.ballot_possible,
                            _l("A ballot needs an estate or a building: a community-wide vote is held as a meeting."))
BALLOT_FAILED = Condition(ballot.ballot_failed, _l("The ballot has not been closed and counted yet."))
BALLOT_PASSED = Condition(ballot.ballot_passed, _l("The ballot has not been closed and counted yet."))
NEWER_PUBLISHED = Condition(lifecycle.newer_version_published, _l("No newer version is being published."))

VOTE_FIELDS = ("entitled_heads", "agree_heads", "disagree_heads", "abstain_heads")

TRANSITIONS = [
    Transition("submit_for_consultation", ("draft",), "consultation", "convention.draft",
               _l("Open the consultation"), conditions=(HAS_ARTICLES,), after=(lifecycle.clear_note,),
               style="primary"),
    Transition("close_consultation", ("consultation",), "street_review", "convention.draft",
               _l("Close the consultation and send to the street for review"), conditions=(ALL_ANSWERED,),
               style="primary"),
    Transition("approve_review", ("street_review",), "voting", "convention.review",
               _l("Approve: put the text to the vote"), after=(lifecycle.prepare_vote,), style="primary"),
    Transition("return_for_revision", ("street_review",), "draft", "convention.review",
               _l("Send back for revision"), reason=True, after=(lifecycle.note_reason,)),
    Transition("open_ballot", ("voting",), "voting", "convention.vote", _l("Open a ballot of the households"),
               conditions=(BALLOT_POSSIBLE, NO_BALLOT), after=(ballot.open_ballot,)),
    Transition("take_ballot_result", ("voting",), "draft", "convention.vote", _l("Take the result of the ballot"),
               conditions=(BALLOT_FAILED,), before=(ballot.take_failed_ballot,), style="primary"),
    Transition("take_ballot_result", ("voting",), "adopted", "convention.vote", _l("Take the result of the ballot"),
               conditions=(BALLOT_PASSED,), before=(ballot.take_passed_ballot,), style="primary"),
    Transition("record_vote", ("voting",), "draft", "convention.vote", _l("Record the result of the meeting"),
               fields=VOTE_FIELDS, conditions=(NO_BALLOT, VOTE_FAILS), before=(lifecycle.record_failed_vote,),
               style="primary"),
    Transition("record_vote", ("voting",), "adopted", "convention.vote", _l("Record the result of the meeting"),
               fields=VOTE_FIELDS, conditions=(NO_BALLOT, VOTE_PASSES), before=(lifecycle.record_passed_vote,),
               style="primary"),
    Transition("file", (*BEFORE_ADOPTION, "adopted"), "filed", "convention.file",
               _l("Record the filing"), fields=("filing_number", "filing_date"), conditions=(VOTE_PASSED,),
               before=(lifecycle.record_filing,), style="primary"),
    Transition("publish", (*BEFORE_ADOPTION, "adopted", "filed"), "published", "convention.publish",
               _l("Publish"), fields=("effective_date",), conditions=(VOTE_PASSED, FILED),
               before=(lifecycle.check_effective_date,),
               after=(lifecycle.supersede_previous, lifecycle.sign_after_commit), style="primary"),
    Transition("supersede", ("published",), "superseded", "convention.publish",
               _l("Superseded by a newer version"), conditions=(NEWER_PUBLISHED,),
               after=(lifecycle.end_in_force,)),
    Transition("repeal", ("published",), "repealed", "convention.repeal", _l("Repeal"), reason=True,
               after=(lifecycle.end_in_force, lifecycle.note_reason), style="danger"),
    Transition("withdraw", BEFORE_ADOPTION, "withdrawn", "convention.draft", _l("Withdraw this version"),
               reason=True, after=(lifecycle.note_reason,), style="danger"),
]

# Audit entries that are not transitions of the workflow.
EVENT_LABELS = {
    "create": _l("Drafted"),
    "amend": _l("Amendment started"),
    "edit_text": _l("Text edited"),
    "edit_article": _l("Article edited"),
    "comment": _l("Comment received"),
    "answer": _l("Comment answered"),
    "sign_pdf": _l("Signed PDF issued"),
}

WORKFLOW = Workflow("convention_version", STATES, TRANSITIONS, initial="draft", event_labels=EVENT_LABELS)
ConventionVersion.workflow = WORKFLOW


def event_label(trigger: str):
    return WORKFLOW.event_label(trigger)
