"""Building the org tree from the command line, as a new deployment does."""
from core.extensions import db
from orgs.models import Estate, OrgNode


def test_add_street_community_and_estate(runner, app):
    assert runner.invoke(args=["orgs", "add", "X1", "--level", "street_committee", "--name", "某街道党工委"]).exit_code == 0
    result = runner.invoke(args=["orgs", "add", "X1-C1", "--parent", "X1", "--level", "community_committee",
                                 "--name", "某社区党委"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["orgs", "add-estate", "X1-E1", "--org", "X1-C1", "--name", "某小区"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        street = db.session.scalar(db.select(OrgNode).where(OrgNode.code == "X1"))
        community = db.session.scalar(db.select(OrgNode).where(OrgNode.code == "X1-C1"))
        estate = db.session.scalar(db.select(Estate).where(Estate.code == "X1-E1"))
        assert community.path == f"{street.path}{community.id}/"
        assert estate.path == community.path


def test_bad_tree_input_is_refused_in_chinese_and_writes_nothing(runner, app):
    runner.invoke(args=["orgs", "add", "X1", "--level", "street_committee", "--name", "某街道党工委"])
    duplicate = runner.invoke(args=["orgs", "add", "X1", "--level", "street_committee", "--name", "重复"])
    assert duplicate.exit_code != 0 and "已存在" in duplicate.output
    upward = runner.invoke(args=["orgs", "add", "X2", "--parent", "X1", "--level", "street_committee", "--name", "x"])
    assert upward.exit_code != 0 and "层级必须低于" in upward.output
    unknown = runner.invoke(args=["orgs", "add-estate", "E9", "--org", "NOPE", "--name", "x"])
    assert unknown.exit_code != 0 and "NOPE" in unknown.output
    with app.app_context():
        assert db.session.query(OrgNode).count() == 1
        assert db.session.query(Estate).count() == 0
