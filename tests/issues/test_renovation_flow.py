"""A demand walks up the five levels and down the renovation lifecycle."""
import pytest

from core.errors import InvalidTransition, NotFound, NotPermitted, StaleVersion, ValidationError
from issues import services
from workflow.audit import verify
from tests.acceptance.acceptance_helpers import inspection_of, pass_inspection, record, submit
from tests.issues.helpers import fire, issue, person, raise_demand
from tests.procedures.vote_helpers import end_notice_period, pass_vote


def test_resident_demand_starts_at_building_group_without_member_household(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        item = issue(issue_id)
        assert item.state == "review_building"
        assert item.responsible_org.code == "C1G1B1"
        assert item.due_at is not None
        assert item.version == 1


def test_neighbour_household_demand_starts_at_member_household(app, world):
    with app.app_context():
        issue_id = raise_demand(world, household_index=2, username="member")
        item = issue(issue_id)
        assert item.state == "review_household"
        assert item.responsible_org.code == "C1G1B1M1"


def test_demand_climbs_every_level_to_the_street_and_is_planned(app, world):
    with app.app_context():
        issue_id = raise_demand(world, household_index=2, username="member")
        fire("member", issue_id, "escalate")
        assert issue(issue_id).state == "review_building"
        fire("group", issue_id, "escalate")
        assert issue(issue_id).state == "review_grid"
        fire("grid", issue_id, "escalate")
        assert issue(issue_id).responsible_org.code == "C1"
        fire("community", issue_id, "escalate")
        assert issue(issue_id).state == "review_street"
        fire("street", issue_id, "include_in_plan")
        item = issue(issue_id)
        assert item.state == "planned"
        assert item.plan is not None and item.plan.estate_id == world.estate_ids[0]
        assert [e.trigger for e in services.timeline(item)] == [
            "create", "escalate", "escalate", "escalate", "escalate", "include_in_plan"
        ]
        assert verify() == []


def test_whole_lifecycle_to_closed_with_rating(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        fire("grid", issue_id, "escalate")
        fire("community", issue_id, "include_in_plan")
        fire("community", issue_id, "start_consultation")
        fire("community", issue_id, "open_vote")
        pass_vote(issue_id)
        end_notice_period(issue_id)
        fire("community", issue_id, "start_construction")
        fire("builder", issue_id, "report_progress", progress="40", reason="管线已铺设")
        assert issue(issue_id).progress == 40
        fire("builder", issue_id, "finish_construction")
        inspection_id = inspection_of(issue_id).id
        record(inspection_id, default="fail")  # the joint inspection finds defects
        submit(inspection_id)
        assert issue(issue_id).state == "rectification"
        fire("builder", issue_id, "request_reinspection")
        pass_inspection(world, issue_id)  # re-inspected; every party approves
        assert issue(issue_id).state == "long_term_management"
        fire("community", issue_id, "close")
        fire("resident", issue_id, "rate", satisfaction="5", comment="很满意")
        item = issue(issue_id)
        assert (item.state, item.open, item.satisfaction) == ("closed", False, 5)


def test_reject_needs_a_reason_residents_can_read(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        with pytest.raises(ValidationError):
            fire("group", issue_id, "reject")
        assert issue(issue_id).state == "review_building"
        fire("group", issue_id, "reject", reason="不属于改造范围，已转物业维修")
        item = issue(issue_id)
        assert item.state == "rejected"
        assert item.public_note == "不属于改造范围，已转物业维修"
        assert not item.open


def test_merge_into_a_duplicate_of_the_same_estate(app, world):
    with app.app_context():
        first = raise_demand(world)
        second = raise_demand(world, household_index=3, username="member")
        fire("member", second, "escalate")
        with pytest.raises(ValidationError):
            fire("group", second, "merge", merge_into="999999")
        fire("group", second, "merge", merge_into=str(first))
        assert issue(second).state == "merged"
        assert issue(second).merged_into_id == first


def test_dispute_returns_to_the_state_it_left(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        fire("grid", issue_id, "escalate")
        fire("community", issue_id, "include_in_plan")
        fire("community", issue_id, "start_consultation")
        fire("community", issue_id, "open_vote")
        pass_vote(issue_id)
        end_notice_period(issue_id)
        fire("community", issue_id, "start_construction")
        fire("resident", issue_id, "raise_dispute", reason="施工噪音扰民")
        assert issue(issue_id).state == "negotiation"
        fire("community", issue_id, "to_mediation", reason="协商未果")
        with pytest.raises(ValidationError):
            fire("community", issue_id, "record_agreement", reason="达成一致")
        fire("community", issue_id, "record_agreement", reason="约定施工时段", agreement_ref="调解书〔2026〕12号")
        item = issue(issue_id)
        assert item.state == "construction"
        assert item.resume_state is None
        assert services.timeline(item)[-1].data["agreement_ref"] == "调解书〔2026〕12号"


def test_wrong_level_cannot_act_and_outsiders_get_not_found(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        with pytest.raises(NotPermitted):
            fire("grid", issue_id, "escalate")  # it waits for the building group
        with pytest.raises(NotFound):
            fire("grid2", issue_id, "escalate")  # another community's grid
        with pytest.raises(InvalidTransition):
            fire("group", issue_id, "accept")


def test_stale_version_is_refused_and_changes_nothing(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        with pytest.raises(StaleVersion):
            services.fire_issue(person("group"), issue_id, "escalate", 99)
        assert issue(issue_id).state == "review_building"
        assert len(services.timeline(issue(issue_id))) == 1


def test_failing_callback_leaves_nothing_changed(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        for trigger in ("escalate", "escalate", "include_in_plan", "start_consultation", "open_vote",
                        "vote_passed", "start_construction"):
            username = {"review_building": "group", "review_grid": "grid"}.get(issue(issue_id).state, "community")
            if trigger == "vote_passed":
                pass_vote(issue_id)
                end_notice_period(issue_id)
                continue
            fire(username, issue_id, trigger)
        before = issue(issue_id)
        version, seq = before.version, before.audit_seq
        with pytest.raises(ValidationError):
            fire("builder", issue_id, "report_progress", progress="150")
        after = issue(issue_id)
        assert (after.state, after.version, after.audit_seq, after.progress) == ("construction", version, seq, 0)
