"""A grid worker walks a patrol on a phone: starts it from the route, marks a point in order,
records a problem at the next (it becomes an issue at the building's level) and finishes."""
from sqlalchemy import select

from core.extensions import db
from issues.models import RenovationIssue
from orgs.models import Building
from tests.browser.conftest import login
from tests.conftest import PASSWORD
from tests.issues.helpers import person
from aftercare import services
from aftercare.models import PatrolRound


def test_a_grid_worker_walks_a_patrol_on_a_phone(live_server, page, world, app):
    with app.app_context():
        plan = services.create_patrol_plan(person("community"), world.estate_ids[0], title="每周安全巡检")
        building_ids = list(db.session.scalars(select(Building.id).where(Building.estate_id == world.estate_ids[0])
                                               .order_by(Building.id)))
        services.add_patrol_point(person("community"), plan.id, label="北门门岗", what_to_check="门禁、消防通道")
        services.add_patrol_point(person("community"), plan.id, label="1号楼楼道", building_id=building_ids[0])
        plan_id = plan.id

    login(page, live_server, "grid", PASSWORD)
    page.goto(f"{live_server}/aftercare/patrols/{plan_id}")
    page.click("[data-action=start-patrol]")
    page.wait_for_load_state()
    assert "北门门岗" in page.inner_text("#point")
    page.click("button[data-result=ok]")
    page.wait_for_load_state()
    assert "1号楼楼道" in page.inner_text("#point")
    page.click("summary[data-open=finding]")
    page.fill("textarea[name=note]", "楼道灯不亮")
    page.select_option("select[name=subcategory]", "stairs")
    page.click("button[data-result=finding]")
    page.wait_for_load_state()
    assert page.locator("#point").count() == 0
    page.click("button[data-action=finish]")
    page.wait_for_load_state()
    assert "楼道灯不亮" in page.inner_text("#checks")
    # Nothing on the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    with app.app_context():
        patrol = db.session.scalar(select(PatrolRound).where(PatrolRound.plan_id == plan_id))
        assert patrol.state == "finished" and patrol.walker_id == world.person_ids["grid"]
        finding = next(check for check in patrol.checks if check.result == "finding")
        issue = db.session.get(RenovationIssue, finding.issue_id)
        assert issue.building_id == building_ids[0] and issue.state == "review_building"
