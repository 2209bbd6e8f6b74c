"""A convention version walks draft → consultation → street review → vote → adopted →
filed → published through the engine; who may do each step; the vote rule by kind."""
import json

import pytest

from conventions import services
from conventions.models import Convention
from conventions.workflow import WORKFLOW
from core.errors import InvalidTransition, NotFound, NotPermitted, ValidationError
from core.extensions import db
from orgs.models import Building
from workflow import audit
from tests.conventions.helpers import (
    FILING, MEETING_NO_QUORUM, MEETING_PASSES, PUBLISH, SHORT_TEXT, create, fire, person, version, walk_to,
)

ROLES = ("admin", "street", "community", "community2", "grid", "group", "member", "owners", "property", "builder",
         "supervisor", "resident")
# Who may take each step (in the state where it applies), for a convention of estate 1.
MATRIX = {
    ("draft", "submit_for_consultation"): {"admin", "community"},
    ("draft", "withdraw"): {"admin", "community"},
    ("consultation", "close_consultation"): {"admin", "community"},
    ("street_review", "approve_review"): {"admin", "street"},
    ("street_review", "return_for_revision"): {"admin", "street"},
    ("voting", "record_vote"): {"admin", "community"},
    ("adopted", "file"): {"admin", "street"},
    ("filed", "publish"): {"admin", "community"},
    ("published", "repeal"): {"admin", "street"},
}


def test_the_whole_lifecycle_is_audited_step_by_step(app, world):
    with app.app_context():
        version_id = create(world)
        item = version(version_id)
        assert (item.state, item.number, len(item.chapters), len(item.articles)) == ("draft", 1, 6, 19)
        assert item.articles[11].label == "第十二条" and "测试1小区" in item.preamble
        assert item.responsible_org.code == "C1"
        fire("community", version_id, "submit_for_consultation")
        comment = services.add_comment(person("resident"), version_id, 12, "希望车棚建成前有过渡期。")
        services.answer_comment(person("community"), comment.id, "已采纳。")
        fire("community", version_id, "close_consultation")
        assert version(version_id).responsible_org.code == "S1"
        fire("street", version_id, "approve_review")
        assert version(version_id).vote_rule == "residents_meeting"
        fire("community", version_id, "record_vote", **MEETING_PASSES)
        item = version(version_id)
        assert (item.state, item.vote_passed) == ("adopted", True)
        assert item.vote_tally().participating_heads == 12
        fire("street", version_id, "file", **FILING)
        fire("community", version_id, "publish", **PUBLISH)
        item = version(version_id)
        assert item.state == "published" and item.filing_number == FILING["filing_number"]
        assert item.filed_by_org.code == "S1" and item.effective_date.isoformat() == PUBLISH["effective_date"]
        triggers = [e.trigger for e in services.timeline(item)]
        assert triggers[:9] == ["create", "submit_for_consultation", "comment", "answer", "close_consultation",
                                "approve_review", "record_vote", "file", "publish"]
        assert audit.verify() == []


@pytest.mark.parametrize(("state", "trigger"), sorted(MATRIX))
def test_permission_matrix(app, world, state, trigger):
    with app.app_context():
        version_id = create(world)
        item = walk_to(version_id, state)
        allowed = {username for username in ROLES if WORKFLOW.allowed(item, person(username), trigger)}
        assert allowed == MATRIX[(state, trigger)]
        for username in set(ROLES) - allowed:
            before = version(version_id).version
            with pytest.raises((NotPermitted, NotFound)):
                fire(username, version_id, trigger, reason="试试", **MEETING_PASSES, **FILING, **PUBLISH)
            assert version(version_id).version == before


def test_outsiders_do_not_even_see_the_version(app, world):
    with app.app_context():
        version_id = create(world)
        walk_to(version_id, "consultation")
        for username in ("community2", "grid2"):
            with pytest.raises(NotFound):
                services.get_version(person(username), version_id)
        with pytest.raises(NotFound):
            fire("community2", version_id, "close_consultation")


def test_residents_see_the_text_from_consultation_on_but_never_the_draft(app, world):
    with app.app_context():
        version_id = create(world)
        with pytest.raises(NotFound):
            services.get_version(person("resident"), version_id)
        fire("community", version_id, "submit_for_consultation")
        assert services.get_version(person("resident"), version_id).id == version_id
        assert [v.id for v in services.consultations_for(person("resident"))] == [version_id]


def test_comments_and_answers_need_the_right_people(app, world):
    with app.app_context():
        version_id = create(world)
        walk_to(version_id, "consultation")
        with pytest.raises(NotPermitted):
            services.add_comment(person("community"), version_id, 1, "officers do not comment as residents")
        comment = services.add_comment(person("resident"), version_id, 1, "同意。")
        with pytest.raises(NotPermitted):
            services.answer_comment(person("resident"), comment.id, "自问自答")
        with pytest.raises(NotPermitted):
            services.answer_comment(person("street"), comment.id, "街道不答复")
        with pytest.raises(InvalidTransition):
            fire("community", version_id, "close_consultation")
        services.answer_comment(person("community"), comment.id, "谢谢。")
        fire("community", version_id, "close_consultation")
        assert version(version_id).state == "street_review"


@pytest.mark.parametrize(("kind", "rule"), [
    ("residents_convention", "residents_meeting"),
    ("ebike_shed", "owners_major"),
    ("management_rules", "owners_ordinary"),
    ("other", "owners_ordinary"),
])
def test_the_vote_rule_follows_the_kind(app, world, kind, rule):
    with app.app_context():
        version_id = create(world, kind=kind, text=SHORT_TEXT)
        walk_to(version_id, "voting")
        assert version(version_id).vote_rule == rule
        defaults = services.vote_form_defaults(version(version_id))
        assert defaults["rule"].name == rule
        assert defaults["entitled_heads"] == 16
        assert defaults["counts_area"] == (rule != "residents_meeting")


def test_owners_vote_needs_areas_and_applies_the_three_quarters_rule(app, world):
    with app.app_context():
        version_id = create(world, kind="ebike_shed")
        walk_to(version_id, "voting")
        with pytest.raises(ValidationError) as missing:
            fire("community", version_id, "record_vote", **MEETING_PASSES)
        assert "entitled_area" in missing.value.details["fields"]
        # 12 of 16 owners take part (3/4 ≥ 2/3); 8 of the 12 agree: 2/3 < 3/4, so it fails.
        counts = dict(entitled_heads="16", entitled_area="1400.00", agree_heads="8", agree_area="700.00",
                      disagree_heads="4", disagree_area="350.00", abstain_heads="0", abstain_area="0",
                      vote_date=MEETING_PASSES["vote_date"])
        fire("community", version_id, "record_vote", **counts)
        item = version(version_id)
        assert (item.state, item.vote_passed) == ("draft", False)
        assert "未通过" in item.public_note or "did not adopt" in item.public_note
        stored = json.loads(item.vote_result)
        assert stored["rule"] == "owners_major" and stored["agreeing_heads"] == 8
        assert services.timeline(item)[-1].reason == item.public_note


def test_a_failed_vote_returns_the_text_to_draft_with_the_reason(app, world):
    with app.app_context():
        version_id = create(world)
        walk_to(version_id, "voting")
        fire("community", version_id, "record_vote", reason="出席人数不足，择期再议。", **MEETING_NO_QUORUM)
        item = version(version_id)
        assert item.state == "draft" and item.vote_passed is False
        assert "择期再议" in item.public_note
        # Revised and walked again: the second vote decides.
        walk_to(version_id, "adopted")
        assert version(version_id).vote_passed is True


def test_street_review_can_send_the_text_back(app, world):
    with app.app_context():
        version_id = create(world)
        walk_to(version_id, "street_review")
        with pytest.raises(ValidationError):
            fire("street", version_id, "return_for_revision")
        fire("street", version_id, "return_for_revision", reason="第十条与物业管理条例不一致，请修改。")
        item = version(version_id)
        assert item.state == "draft" and "第十条" in item.public_note


def test_amendment_supersedes_the_version_in_force_when_published(app, world):
    with app.app_context():
        first_id = create(world)
        walk_to(first_id, "published")
        convention_id = version(first_id).convention_id
        second = services.amend(person("community"), convention_id, "增加电动车充电条款")
        assert (second.number, second.state, second.based_on_id) == (2, "draft", first_id)
        with pytest.raises(InvalidTransition):
            services.amend(person("community"), convention_id)
        services.update_article(person("community"), second.id, version(second.id).version, 12,
                                "电动自行车应当在车棚内充电，禁止入户充电。")
        assert version(first_id).state == "published"
        walk_to(second.id, "published", filing={**FILING, "filing_number": "测街备〔2026〕2号"})
        first, second = version(first_id), version(second.id)
        assert (first.state, second.state) == ("superseded", "published")
        assert first.ended_on == second.effective_date
        assert [e.trigger for e in services.timeline(first)][-1] == "supersede"
        assert db.session.get(Convention, convention_id).in_force().id == second.id
        assert audit.verify() == []


def test_repeal_ends_the_convention(app, world):
    with app.app_context():
        version_id = create(world)
        walk_to(version_id, "published")
        fire("street", version_id, "repeal", reason="已被新的管理规约取代。")
        item = version(version_id)
        assert item.state == "repealed" and item.ended_on is not None
        assert db.session.get(Convention, item.convention_id).in_force() is None


def test_withdrawing_an_unfinished_version(app, world):
    with app.app_context():
        version_id = create(world)
        fire("community", version_id, "withdraw", reason="改为制定管理规约。")
        assert version(version_id).state == "withdrawn"


def test_scopes_community_and_building(app, world):
    with app.app_context():
        community_version = services.create_convention(
            person("community"), kind="residents_convention", scope_kind="community", scope_id=world.node_ids["C1"])
        assert community_version.convention.title == "第1社区党委居民公约"
        first_building = db.session.scalar(db.select(Building).where(Building.estate_id == world.estate_ids[0]))
        building_version = services.create_convention(
            person("community"), kind="ebike_shed", scope_kind="building", scope_id=first_building.id)
        assert building_version.convention.scope_label == "测试1小区 1号楼"
        walk_to(building_version.id, "voting")
        assert services.vote_form_defaults(version(building_version.id))["entitled_heads"] == 8
        with pytest.raises(NotFound):
            services.create_convention(person("community"), kind="residents_convention", scope_kind="estate",
                                       scope_id=world.estate_ids[1])
