"""The vote on a version by a ballot of the households (procedures.voting): opened through
the convention's lifecycle, its closed result decides."""
import pytest

from conventions import ballot as ballots
from conventions import services
from core.db import write_transaction
from core.errors import InvalidTransition
from core.extensions import db
from orgs import roles as R
from orgs import services as org_services
from orgs.models import Household, OrgNode
from tests.conftest import PASSWORD
from tests.conventions.helpers import MEETING_PASSES, SHORT_TEXT, create, fire, person, version, walk_to
from procedures import voting
from workflow import audit


def _residents(world, count: int) -> list[str]:
    """`count` residents of estate 1, one per household from the second one on."""
    names = []
    with write_transaction():
        group = db.session.scalar(db.select(OrgNode).where(OrgNode.code == "C1G1B1"))
        for index in range(1, count + 1):
            name = f"voter{index}"
            someone = org_services.add_person(f"居民{index}", username=name, password=PASSWORD)
            org_services.link_household(someone, db.session.get(Household, world.household_ids[index]), "resident")
            org_services.grant_role(someone, group, R.RESIDENT)
            names.append(name)
    return names


def _ballot_for(app, world, voters: int) -> tuple[int, int]:
    """A residents' convention in its vote, a ballot opened, `voters` residents agreeing, closed."""
    names = _residents(world, voters)
    version_id = create(world)
    walk_to(version_id, "voting")
    fire("community", version_id, "open_ballot")
    vote = ballots.current_ballot(version(version_id))
    assert vote is not None and vote.rule_name == "residents_meeting" and vote.voter_count == 16
    for name in names:
        voting.cast_ballot(person(name), vote.id, "agree")
    voting.close_vote(person("community"), vote.id, None)
    return version_id, vote.id


def test_a_passed_ballot_adopts_the_text(app, world):
    with app.app_context():
        version_id, vote_id = _ballot_for(app, world, 9)
        fire("community", version_id, "take_ballot_result")
        item = version(version_id)
        assert (item.state, item.vote_passed) == ("adopted", True)
        assert item.vote_data["vote_id"] == vote_id and item.vote_tally().participating_heads == 9
        assert item.vote_reference == f"投票第{vote_id}号"
        triggers = [e.trigger for e in services.timeline(item)]
        assert triggers[-2:] == ["open_ballot", "take_ballot_result"]
        assert audit.verify() == []


def test_a_failed_ballot_sends_the_text_back_and_the_next_round_starts_afresh(app, world):
    with app.app_context():
        version_id, _vote_id = _ballot_for(app, world, 1)
        fire("community", version_id, "take_ballot_result")
        item = version(version_id)
        assert item.state == "draft" and item.vote_passed is False and item.public_note
        walk_to(version_id, "voting")
        assert ballots.current_ballot(version(version_id)) is None
        fire("community", version_id, "record_vote", **MEETING_PASSES)
        assert version(version_id).state == "adopted"


def test_while_a_ballot_is_open_counts_cannot_be_typed_in_and_its_result_is_awaited(app, world, client, auth):
    with app.app_context():
        version_id = create(world)
        walk_to(version_id, "voting")
        fire("community", version_id, "open_ballot")
        with pytest.raises(InvalidTransition) as typed:
            fire("community", version_id, "record_vote", **MEETING_PASSES)
        assert "以投票结果为准" in typed.value.message
        with pytest.raises(InvalidTransition) as early:
            fire("community", version_id, "take_ballot_result")
        assert "投票尚未结束计票" in early.value.message
        with pytest.raises(InvalidTransition):
            fire("community", version_id, "open_ballot")
        vote_id = ballots.current_ballot(version(version_id)).id
    auth.login("community")
    page = client.get(f"/manage/conventions/versions/{version_id}").get_data(as_text=True)
    assert f"/votes/{vote_id}" in page and 'data-open="record_vote"' not in page


def test_community_wide_conventions_are_voted_at_a_meeting(app, world):
    with app.app_context():
        version_id = services.create_convention(person("community"), kind="residents_convention",
                                                scope_kind="community", scope_id=world.node_ids["C1"],
                                                use_draft=False, text=SHORT_TEXT).id
        walk_to(version_id, "voting")
        with pytest.raises(InvalidTransition):
            fire("community", version_id, "open_ballot")
