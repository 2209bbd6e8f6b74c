"""The first run on a phone-sized page: set up, log in, add a community."""
from sqlalchemy import select

from core.extensions import db
from orgs.models import OrgNode
from tests.browser.conftest import browser, live_server, login, page  # noqa: F401 - fixtures
from tests.conftest import PASSWORD


def test_first_run_setup_login_add_community(live_server, page, app):  # noqa: F811
    page.goto(live_server + "/")
    page.click("text=首次使用：初始化系统")
    assert page.locator("h1").inner_text() == "首次使用"
    page.fill("#f-street_name", "新华街道党工委")
    page.fill("#f-street_code", "XH")
    page.fill("#f-name", "王管理")
    page.fill("#f-username", "wang")
    page.fill("#f-password", PASSWORD)
    page.fill("#f-confirm", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    assert "系统已初始化" in page.content()

    login(page, live_server, "wang", PASSWORD)
    page.click("text=菜单")
    page.click("text=系统管理")
    page.click("text=新华街道党工委")
    page.select_option("#f-level", label="社区党委")
    page.fill("#c-name", "和平社区党委")
    page.fill("#c-code", "HP")
    page.click("form:has(#f-level) button[type=submit]")
    page.wait_for_load_state()
    assert "已保存" in page.content()
    assert page.locator("text=和平社区党委").count() == 1
    page.click("text=和平社区党委")
    assert page.locator("h1").inner_text().startswith("和平社区党委")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    with app.app_context():
        community = db.session.scalar(select(OrgNode).where(OrgNode.code == "HP"))
        assert community.level_code == "community_committee" and community.parent.code == "XH"
