"""One registry of city policies (rules/policy.py): the code CITY_POLICY names
chooses the deadlines, notice periods, acceptance parties and the voting rules
together, and an unknown code stops the application at start-up."""
from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from tests.conftest import BASE_CONFIG
from tests.issues.helpers import fire, issue, raise_demand
from rules import categories, policy, tally
from workflow.engine import working_days_after
from rules.tally import SubjectKind

ELEVATOR_RULES = {"default": "owners_major", "fast_response": "owners_major",
                  "example-unit-two-thirds": "unit_owners_two_thirds", "example-plan-80": "owners_major"}
PLAN_RULES = {"default": "owners_major", "fast_response": "owners_major",
              "example-unit-two-thirds": "owners_major", "example-plan-80": "renovation_plan_80"}


def test_the_examples_above_are_every_registered_city():
    assert set(policy.POLICIES) == set(ELEVATOR_RULES) == set(PLAN_RULES)


@pytest.mark.parametrize("code", sorted(ELEVATOR_RULES))
def test_every_city_policy_serves_deadlines_and_votes(app, world, code):
    app.config["CITY_POLICY"] = code
    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        item = issue(issue_id)
        days = policy.POLICIES[code].deadline("renovation_issue", "review_grid")
        assert item.state == "review_grid"
        assert item.due_at == working_days_after(item.state_entered_at, days)
        city = policy.voting_city()
        assert tally.default_rule_for(SubjectKind.ELEVATOR_RETROFIT, city).name == ELEVATOR_RULES[code]
        assert tally.default_rule_for(SubjectKind.RENOVATION_PLAN, city).name == PLAN_RULES[code]


def test_the_fast_response_city_has_shorter_first_deadlines(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        national = issue(issue_id).due_at
    app.config["CITY_POLICY"] = "fast_response"
    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        assert issue(issue_id).due_at < national


def test_an_unknown_city_stops_the_application_at_start_up(tmp_path):
    with pytest.raises(RuntimeError, match="CITY_POLICY='atlantis' is not a known city policy"):
        create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                    "CITY_POLICY": "atlantis"})


def test_a_city_policy_carries_its_voting_rules(monkeypatch):
    monkeypatch.setattr(policy, "POLICIES", dict(policy.POLICIES))
    monkeypatch.setattr(tally, "VOTING_POLICIES", dict(tally.VOTING_POLICIES))
    with pytest.raises(ValueError, match="national"):
        policy.register_city_policy(policy.CityPolicy("default", "again"), replace=True)
    with pytest.raises(ValueError, match="already registered"):
        policy.register_city_policy(policy.CityPolicy("fast_response", "again"))
    own_rules = tally.VotingPolicy("testville", "Testville rules", rules={}, subject_rules={
        SubjectKind.RENOVATION_PLAN: "owners_major"})
    policy.register_city_policy(policy.CityPolicy("testville", "Testville", voting=own_rules))
    assert policy.POLICIES["testville"].voting.code == "testville"
    assert tally.VOTING_POLICIES["testville"] is own_rules
    assert tally.default_rule_for(SubjectKind.RENOVATION_PLAN, "testville").name == "owners_major"
    clash = tally.VotingPolicy("testville", "other rules")
    with pytest.raises(ValueError, match="already registered"):
        policy.register_city_policy(policy.CityPolicy("testville2", "Testville 2", voting=clash))


def test_deadlines_are_kept_per_workflow():
    national = policy.POLICIES["default"]
    # "rectification" names a state of two workflows; each keeps its own deadline.
    assert national.deadline("renovation_issue", "rectification") == 20
    assert national.deadline("dispatch_assignment", "done") == 2
    assert national.deadline("renovation_issue", "done") is None
    assert national.deadline("joint_inspection", "checking") == 5


def test_sub_categories_are_records_of_the_city_policy():
    national = policy.POLICIES["default"]
    assert national.valid("improvement", "elevator") and not national.valid("basic", "elevator")
    assert national.vote_kind("elevator") == SubjectKind.ELEVATOR_RETROFIT
    assert national.vote_kind("ebike_shed") == SubjectKind.COMMON_PARTS_USE
    assert national.vote_kind("roads") == SubjectKind.RENOVATION_PLAN
    assert national.notice_days("elevator") == 15 and national.notice_days("roads") == 7
    assert national.checklist("improvement", "elevator")[-2:] == ["elevator.certificate", "elevator.trial"]
    with pytest.raises(ValueError, match="name no national category"):
        policy.CityPolicy("nowhere", "Nowhere", subcategories=(categories.Subcategory("x", "luxury", "X"),))


README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_example() -> str:
    """The instance/config.py example of README's "City policy" section, as written there."""
    text = README.read_text(encoding="utf-8")
    start = text.index("# instance/config.py")
    return text[start:text.index("```", start)]


def test_a_deployment_defines_its_city_in_instance_config(tmp_path, monkeypatch, database_url):
    """The way a deployment uses it: instance/config.py defines the city and chooses it."""
    monkeypatch.setattr(policy, "POLICIES", dict(policy.POLICIES))
    monkeypatch.setattr(tally, "VOTING_POLICIES", dict(tally.VOTING_POLICIES))
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(_readme_example(), encoding="utf-8")
    monkeypatch.setenv("WUJI_INSTANCE_PATH", str(instance))
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["CITY_POLICY"] == "qingdao"
    with app.app_context():
        city = policy.current_policy()
        assert city.deadline("renovation_issue", "review_grid") == 3
        assert city.deadline("renovation_issue", "review_street") == 15
        assert city.notice_days("roads") == 10 and city.notice_days("elevator") == 15
        assert city.acceptance.resident_representatives == 3
        assert city.valid("basic", "sponge_city") and city.checklist("basic", "sponge_city")[-1] == "sponge.permeable"
        assert city.item_label("sponge.permeable") == "透水铺装通过淋水试验"
        # The city's stricter rule for management rules (管理规约); the nation's stays the majority rule.
        assert tally.default_rule_for(SubjectKind.MANAGEMENT_RULES, policy.voting_city()).name == "owners_major"
        assert tally.default_rule_for(SubjectKind.MANAGEMENT_RULES, "default").name == "owners_ordinary"
