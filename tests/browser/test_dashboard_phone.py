"""The dashboard on a phone (390 x 844): the three rates with their definitions, the
charts drawn as SVG within the screen's width, and a bar leads to exactly its items."""
from __future__ import annotations

from core.extensions import db
from tests.browser.conftest import login
from tests.conftest import PASSWORD
from tests.issues.helpers import fire, raise_demand


def test_a_street_officer_reads_the_dashboard_on_a_phone(app, world, live_server, page):
    with app.app_context():
        a = raise_demand(world)
        fire("group", a, "resolve", reason="已修好")
        fire("resident", a, "rate", satisfaction="5")
        raise_demand(world, title="路面破损")
        raise_demand(world, username="grid2", household_index=16, title="东区路灯")
        db.session.remove()
    login(page, live_server, "street", PASSWORD)
    page.click("header summary:has-text('菜单')")
    page.click("header nav a:has-text('数据看板')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().endswith("数据看板")
    for heading in ("响应率", "解决率", "满意率"):
        card = page.locator(f".rate:has(h2:has-text('{heading}'))")
        assert card.is_visible() and card.locator(".hint").inner_text()
    assert page.locator("#resolution-rate .big").inner_text() == "100.0%"
    assert page.locator("#satisfaction-rate .big").inner_text() == "100.0%"
    # Nothing wider than the phone: no sideways scrolling, charts scaled to the width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    charts = page.locator("svg.chart")
    assert charts.count() >= 3
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box["width"] <= 390 and box["height"] > 50
    # Drill down to the first community, then follow its "basic" bar to the worklist.
    page.click("table.children a:has-text('第1社区党委')")
    page.wait_for_load_state()
    assert "第1社区党委数据看板" in page.locator("h1").inner_text()
    page.locator("section:has(h2:has-text('按类别')) svg a").first.click()
    page.wait_for_load_state()
    assert "/issues/" in page.url and "category=basic" in page.url
    assert page.locator("p.muted:has-text('共 2 项')").is_visible()
    assert page.locator(".issue-list li").count() == 2
