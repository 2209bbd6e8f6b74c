"""Joint acceptance: finished work is inspected item by item, the parties the city policy
names sign, failures go to rectification and re-inspection of those items only, and
acceptance moves the renovation issue on."""
import pytest

from core.errors import InvalidTransition, StaleVersion, ValidationError
from core.extensions import db
from acceptance import services as acceptance
from issues import services
from workflow import audit
from acceptance.models import JointInspection, missing_approvals, rectification_items
from rules.policy import POLICIES

from issues.services import Photo
from tests.issues.test_issue_pages import PNG
from tests.acceptance.acceptance_helpers import (
    SIGNERS,
    finished_issue,
    fire,
    inspection_of,
    issue,
    pass_inspection,
    person,
    record,
    sign_all,
    submit,
    with_second_representative,
)


def template(category: str, subcategory: str) -> list[str]:
    return POLICIES["default"].checklist(category, subcategory)


def _trigger_log(subject) -> list[str]:
    return [entry.trigger for entry in audit.timeline(subject)]


def test_finishing_construction_opens_an_inspection_with_the_template_checklist(app, world):
    with app.app_context():
        issue_id = finished_issue(world, category="basic", subcategory="stairs")
        inspection = inspection_of(issue_id)
        assert inspection.state == "checking"
        assert [item.code for item in inspection.items] == template("basic", "stairs")
        assert len(inspection.checks()) == len(inspection.items)
        assert inspection.community_org.code == "C1"
        assert inspection.due_at is not None


def test_basic_work_is_signed_by_the_street_too_and_two_resident_representatives(app, world):
    with app.app_context():
        inspection = inspection_of(finished_issue(world, category="basic", subcategory="stairs"))
        assert inspection.required_parties == [
            "community_committee", "street_committee", "resident_representative",
            "supervision_company", "construction_company", "property_company",
        ]
        assert inspection.resident_quorum == 2
        assert inspection.street_org.code == "S1"


def test_improvement_work_is_not_signed_by_the_street_under_the_default_policy(app, world):
    with app.app_context():
        inspection = inspection_of(finished_issue(world, category="improvement", subcategory="lighting"))
        assert "street_committee" not in inspection.required_parties
        assert inspection.street_org is None


def test_another_city_policy_asks_for_the_street_and_three_representatives(app, world):
    app.config["CITY_POLICY"] = "fast_response"
    with app.app_context():
        inspection = inspection_of(finished_issue(world, category="improvement", subcategory="lighting"))
        assert "street_committee" in inspection.required_parties
        assert inspection.resident_quorum == 3


def test_every_approval_accepts_the_work_and_the_issue_moves_to_long_term_management(app, world):
    with app.app_context():
        issue_id = finished_issue(world)
        inspection_id = pass_inspection(world, issue_id)
        inspection = inspection_of(issue_id)
        assert (inspection.id, inspection.state) == (inspection_id, "accepted")
        assert inspection.accepted_at is not None
        assert issue(issue_id).state == "long_term_management"
        last = audit.timeline(issue(issue_id))[-1]
        assert (last.trigger, last.actor_name, last.to_state) == ("accept", "system", "long_term_management")
        assert _trigger_log(inspection)[:3] == ["open", "record_item", "record_item"]
        assert "sign" in _trigger_log(inspection)
        assert audit.verify() == []


def test_acceptance_waits_for_every_required_party(app, world):
    with app.app_context():
        issue_id = finished_issue(world)
        pass_inspection(world, issue_id, skip=("resident2",))
        inspection = inspection_of(issue_id)
        assert inspection.state == "signing"
        assert missing_approvals(inspection) == {"resident_representative": 1}
        assert issue(issue_id).state == "acceptance"


def test_a_failed_item_sends_the_work_to_rectification_with_a_deadline(app, world):
    with app.app_context():
        issue_id = finished_issue(world)
        inspection = inspection_of(issue_id)
        record(inspection.id, {6: "fail"})
        submit(inspection.id)
        inspection = inspection_of(issue_id)
        assert inspection.state == "rectification"
        assert [item.position for item in rectification_items(inspection)] == [6]
        assert inspection.current_round.outcome == "rectification"
        assert inspection.current_round.rectification_due_at == inspection.due_at
        item = issue(issue_id)
        assert item.state == "rectification"
        entry = audit.timeline(item)[-1]
        assert entry.trigger == "require_rectification" and entry.actor_name == "system"
        assert inspection.items[6].label in entry.reason


def test_reinspection_checks_only_the_failed_items_and_keeps_the_history(app, world):
    with app.app_context():
        issue_id = finished_issue(world)
        with_second_representative(world)
        inspection_id = inspection_of(issue_id).id
        record(inspection_id, {5: "fail", 6: "fail"})
        submit(inspection_id)
        fire("builder", issue_id, "request_reinspection")
        inspection = inspection_of(issue_id)
        assert (inspection.state, inspection.round) == ("checking", 2)
        assert [check.item.position for check in inspection.checks()] == [5, 6]
        assert issue(issue_id).state == "acceptance"
        record(inspection_id)
        submit(inspection_id)
        sign_all(inspection_id)
        inspection = inspection_of(issue_id)
        assert inspection.state == "accepted"
        assert [r.outcome for r in inspection.rounds] == ["rectification", "accepted"]
        assert [c.result for c in inspection.items[6].checks] == ["fail", "pass"]
        assert len(inspection.checks(1)) == len(inspection.items)
        assert issue(issue_id).state == "long_term_management"


def test_a_rejection_sends_the_objected_items_to_rectification(app, world):
    with app.app_context():
        issue_id = finished_issue(world)
        inspection = inspection_of(issue_id)
        record(inspection.id)
        submit(inspection.id)
        handrails = next(item for item in inspection_of(issue_id).items if item.code == "stairs.handrails")
        acceptance.sign(person("community"), inspection.id, None, party="community_committee", decision="approve")
        acceptance.sign(person("resident"), inspection.id, None, party="resident_representative",
                        decision="reject", comment="扶手仍然松动", items=[handrails.id])
        inspection = inspection_of(issue_id)
        assert inspection.state == "rectification"
        assert [item.id for item in rectification_items(inspection)] == [handrails.id]
        assert issue(issue_id).state == "rectification"
        fire("builder", issue_id, "request_reinspection")
        assert [check.item_id for check in inspection_of(issue_id).checks()] == [handrails.id]


def test_a_rejection_needs_a_comment_and_the_items_objected_to(app, world):
    with app.app_context():
        issue_id = finished_issue(world)
        inspection = inspection_of(issue_id)
        record(inspection.id)
        submit(inspection.id)
        with pytest.raises(ValidationError):
            acceptance.sign(person("resident"), inspection.id, None, party="resident_representative",
                            decision="reject", comment="")
        with pytest.raises(ValidationError):
            acceptance.sign(person("resident"), inspection.id, None, party="resident_representative",
                            decision="reject", comment="不合格", items=[])
        inspection = inspection_of(issue_id)
        assert inspection.state == "signing" and inspection.round_signoffs() == []


def test_findings_cannot_be_submitted_before_every_item_has_a_result(app, world):
    with app.app_context():
        issue_id = finished_issue(world)
        inspection = inspection_of(issue_id)
        first = inspection.checks()[0]
        acceptance.record_item(person("supervisor"), inspection.id, None, item_id=first.item_id, result="pass")
        with pytest.raises(InvalidTransition):
            submit(inspection.id)
        assert inspection_of(issue_id).state == "checking"


def test_parties_cannot_sign_while_the_items_are_being_checked(app, world):
    with app.app_context():
        inspection = inspection_of(finished_issue(world))
        with pytest.raises(InvalidTransition):
            acceptance.sign(person("community"), inspection.id, None, party="community_committee",
                            decision="approve")


def test_nobody_accepts_the_issue_by_hand_before_the_inspection_passes(app, world):
    with app.app_context():
        issue_id = finished_issue(world)
        for username in ("community", "street"):
            with pytest.raises(InvalidTransition):
                fire(username, issue_id, "accept")
        with pytest.raises(InvalidTransition):
            fire("community", issue_id, "require_rectification", reason="扶手松动")
        assert issue(issue_id).state == "acceptance"


def test_a_stale_version_is_refused(app, world):
    with app.app_context():
        inspection = inspection_of(finished_issue(world))
        check = inspection.checks()[0]
        with pytest.raises(StaleVersion):
            acceptance.record_item(person("supervisor"), inspection.id, inspection.version + 5,
                                   item_id=check.item_id, result="pass")


def test_a_party_signs_once_per_round(app, world):
    with app.app_context():
        issue_id = finished_issue(world)
        inspection = inspection_of(issue_id)
        record(inspection.id)
        submit(inspection.id)
        acceptance.sign(person("community"), inspection.id, None, party="community_committee", decision="approve")
        with pytest.raises(ValidationError):
            acceptance.sign(person("community"), inspection.id, None, party="community_committee",
                            decision="approve")


def test_residents_rate_their_satisfaction_after_acceptance(app, world):
    with app.app_context():
        issue_id = finished_issue(world)
        pass_inspection(world, issue_id)
        assert [t.trigger for t in acceptance.issue_actions(person("resident"), issue(issue_id))] == ["rate"]
        fire("resident", issue_id, "rate", satisfaction="4", comment="扶手很牢固")
        assert (issue(issue_id).satisfaction, issue(issue_id).satisfaction_comment) == (4, "扶手很牢固")


def test_the_whole_lifecycle_closes_after_acceptance(app, world):
    with app.app_context():
        issue_id = finished_issue(world)
        pass_inspection(world, issue_id)
        fire("community", issue_id, "close")
        fire("resident", issue_id, "rate", satisfaction="5", comment="很满意")
        item = issue(issue_id)
        assert (item.state, item.open, item.satisfaction) == ("closed", False, 5)


def test_signers_table_matches_the_default_policy():
    assert {party for _username, party in SIGNERS} == {
        "community_committee", "street_committee", "supervision_company", "construction_company",
        "property_company", "resident_representative",
    }


def test_a_whole_estate_plan_is_inspected_once_and_every_issue_is_accepted(app, world):
    with app.app_context():
        first = finished_issue(world)
        second = finished_issue(world, subcategory="walls", household_index=3, username="grid")
        plan_id = issue(first).plan_id
        assert issue(second).plan_id == plan_id
        own = [inspection_of(first).id, inspection_of(second).id]
        inspection = acceptance.open_plan_inspection(person("community"), plan_id)
        assert [db.session.get(JointInspection, i).state for i in own] == ["superseded", "superseded"]
        assert inspection_of(first).id == inspection_of(second).id == inspection.id
        assert "street_committee" in inspection.required_parties
        assert {item.issue_id for item in inspection.items} == {None, first, second}
        assert [item.code for item in inspection.items if item.issue_id == second] == template("basic", "walls")[4:]
        pass_inspection(world, first)
        assert (issue(first).state, issue(second).state) == ("long_term_management", "long_term_management")


def test_a_plan_inspection_waits_until_every_issue_of_the_plan_is_finished(app, world):
    with app.app_context():
        first = finished_issue(world)
        task = services.launch_task(person("community"), title="外墙保温", description="", category="basic",
                                              subcategory="walls", place_kind="estate", place_id=world.estate_ids[0])
        assert issue(task.id).plan_id == issue(first).plan_id
        with pytest.raises(InvalidTransition):
            acceptance.open_plan_inspection(person("community"), issue(first).plan_id)


def test_photos_are_kept_with_the_result_of_an_item(app, world):
    with app.app_context():
        inspection = inspection_of(finished_issue(world))
        check = inspection.checks()[0]
        photo = Photo(filename="扶手.png", content_type="image/png", data=PNG)
        acceptance.record_item(person("supervisor"), inspection.id, None, item_id=check.item_id, result="fail",
                               notes="扶手松动", photos=[photo])
        stored = inspection_of(inspection.issue_id).checks()[0].photos[0]
        item, data = acceptance.photo(person("resident"), inspection.id, stored.id)
        assert (item.filename, data) == ("扶手.png", photo.data)
        with pytest.raises(ValidationError):
            acceptance.record_item(person("supervisor"), inspection.id, None, item_id=check.item_id, result="fail",
                                   photos=[Photo(filename="x.exe", content_type="image/png", data=b"MZ")])
