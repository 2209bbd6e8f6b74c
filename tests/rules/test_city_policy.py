"""One registry of city policies (rules/policy.py): the code CITY_POLICY names
chooses the deadlines, notice periods, acceptance parties and the voting rules
together, and an unknown code stops the application at start-up."""
from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import BASE_CONFIG
from tests.issues.helpers import fire, issue, raise_demand
from rules import policy, tally
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
        days = policy.POLICIES[code].deadlines["review_grid"]
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


def test_a_city_names_a_registered_voting_policy(monkeypatch):
    monkeypatch.setattr(policy, "POLICIES", dict(policy.POLICIES))
    with pytest.raises(ValueError, match="unknown voting policy 'testville'"):
        policy.register_city_policy(policy.CityPolicy("testville", "Testville", voting="testville"))
    with pytest.raises(ValueError, match="national"):
        policy.register_city_policy(policy.CityPolicy("default", "again"), replace=True)
    with pytest.raises(ValueError, match="already registered"):
        policy.register_city_policy(policy.CityPolicy("fast_response", "again"))
    policy.register_city_policy(policy.CityPolicy("testville", "Testville", voting="example-plan-80"))
    assert policy.POLICIES["testville"].voting == "example-plan-80"
