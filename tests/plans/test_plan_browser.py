"""A resident reads the estate plan on a phone (390 x 844): from the menu to the plan,
its items with progress, the budget and who pays, the bulletins page by page, and the
fate of their own demand in the demand collection campaign."""
from __future__ import annotations

from tests.browser.conftest import browser, live_server, login, page  # noqa: F401 - fixtures
from tests.conftest import PASSWORD
from tests.issues.helpers import fire, person, raise_demand
from tests.plans.test_plans import make_campaign, make_plan
from plans import services


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_resident_reads_the_plan_and_the_fate_of_their_demand_on_a_phone(live_server, page, app, world):
    record_id = make_plan(app, world, bulletins=25)
    campaign_id = make_campaign(app, world)
    with app.app_context():
        issue_id = raise_demand(world, title="拆除违建车库")
        fire("group", issue_id, "reject", reason="涉及产权纠纷，不属于本次改造范围。")
        services.link_demand(person("community"), campaign_id, issue_id)

    login(page, live_server, "resident", PASSWORD)
    page.click("text=菜单")
    page.click("header nav a:has-text('小区改造方案')")
    page.click(f"a[href='/plans/{record_id}']")
    assert page.locator("h1").inner_text().strip()
    items = page.locator("li.plan-item")
    assert items.count() == 2
    assert "改造项目1" in items.first.inner_text() and "30%" in items.first.inner_text()
    budget = page.locator("#budget").inner_text()
    assert "1,200,000.00 元" in budget and "政府资金" in budget and "业主出资" in budget and "社会资本" in budget
    assert page.locator("li.bulletin").count() == 20
    assert _fits_the_screen(page)

    page.click("#bulletins a:has-text('较早')")
    assert page.locator("li.bulletin").count() == 5
    assert "第 2 页，共 2 页" in page.locator("#bulletins").inner_text()

    page.click("#campaigns a:has-text('问需于民')")
    mine = page.locator("#mine").inner_text()
    assert "拆除违建车库" in mine and "涉及产权纠纷，不属于本次改造范围。" in mine
    assert _fits_the_screen(page)
