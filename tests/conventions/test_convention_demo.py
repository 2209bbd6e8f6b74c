"""The demo loads a residents' convention in force for 翠湖小区 and an e-bike shed
convention open for comments."""
from conventions.models import Convention
from core.extensions import db


def test_demo_conventions(runner, app, client):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0 and "2 conventions" in result.output, result.output
    with app.app_context():
        conventions = {c.kind: c for c in db.session.scalars(db.select(Convention))}
        residents, ebike = conventions["residents_convention"], conventions["ebike_shed"]
        assert residents.in_force() is not None and residents.in_force().pdf_sha256
        assert [v.state for v in ebike.versions] == ["consultation"] and ebike.versions[0].comments
        residents_id, ebike_id = residents.id, ebike.id
    assert "翠湖小区居民公约" in client.get(f"/conventions/{residents_id}").get_data(as_text=True)
    assert client.get(f"/conventions/{ebike_id}").status_code == 404
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "conventions" not in again.output
