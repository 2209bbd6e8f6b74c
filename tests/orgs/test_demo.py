"""The demo sub-district loads once, and every demo account can log in."""
from core.extensions import db
from orgs import demo
from orgs.models import Household, OrgNode, Person


def test_demo_load_is_idempotent_and_believable(runner, app):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "org tree" in result.output
    with app.app_context():
        counts = (db.session.query(OrgNode).count(), db.session.query(Household).count(), db.session.query(Person).count())
        levels = {node.level_code for node in db.session.query(OrgNode)}
    assert levels == {"street_committee", "community_committee", "grid_branch", "building_group", "member_household"}
    assert counts[1] >= 200
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "nothing new" in again.output
    with app.app_context():
        assert (db.session.query(OrgNode).count(), db.session.query(Household).count(),
                db.session.query(Person).count()) == counts


def test_every_demo_account_can_log_in(runner, client, auth, app):
    runner.invoke(args=["demo", "load"])
    for username, _name, _role in demo.accounts():
        response = auth.login(username, demo.DEMO_PASSWORD)
        assert response.status_code == 302, username
        assert "退出登录" in client.get("/").get_data(as_text=True)
        auth.logout()
