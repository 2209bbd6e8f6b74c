"""A member household raises a neighbour's demand; each level moves it up to the
street, which resolves it; the resident reads the outcome on a phone."""
from core.db import write_transaction
from core.extensions import db
from orgs import services as org_services
from orgs.models import Household, Person
from tests.browser.conftest import login
from tests.conftest import PASSWORD


def _logout(page, base):
    page.goto(f"{base}/")
    page.click("text=退出登录")


def _act(page, base, username, issue_url, action, reason=None):
    login(page, base, username, PASSWORD)
    page.goto(issue_url)
    if reason:
        page.click(f"summary:has-text('{action}')")
        page.fill("details[open] textarea[name=reason]", reason)
        page.click(f"details[open] button:has-text('确认：{action}')")
    else:
        page.click(f"form.action button:has-text('{action}')")
    page.wait_for_load_state()
    assert f"已完成：{action}" in page.content()
    _logout(page, base)


def test_demand_travels_up_to_the_street_and_the_resident_sees_the_outcome(live_server, page, world, app):
    with app.app_context():
        with write_transaction():
            resident = db.session.scalar(db.select(Person).where(Person.username == "resident"))
            org_services.link_household(resident, db.session.get(Household, world.household_ids[1]), "resident")

    login(page, live_server, "member", PASSWORD)
    page.click("text=菜单")  # on a phone the entries sit behind the menu button
    page.click("text=改造事项")
    page.click("text=提出需求")
    page.fill("input[name=title]", "加装楼道扶手")
    page.select_option("select[name=place]", f"household:{world.household_ids[1]}")
    page.select_option("select[name=subcategory]", "stairs")  # its category (basic) follows from it
    page.fill("textarea[name=description]", "老人上下楼不方便，希望加装扶手")
    page.click("button:has-text('提交')")
    assert "党员中心户收集" in page.content()
    assert "基础类 · 楼道" in page.content()  # the category followed from the sub-category
    issue_url = page.url
    page.click("form.action button:has-text('上报上一级')")
    assert "楼院党小组审核" in page.content()
    _logout(page, live_server)

    _act(page, live_server, "group", issue_url, "上报上一级")
    _act(page, live_server, "grid", issue_url, "上报上一级")
    _act(page, live_server, "community", issue_url, "上报上一级")
    _act(page, live_server, "street", issue_url, "就地解决", reason="街道已协调物业加装扶手，本周完工")

    login(page, live_server, "resident", PASSWORD)
    page.goto(issue_url)
    text = page.content()
    assert "已解决，请评价是否满意" in text
    assert "街道已协调物业加装扶手，本周完工" in text
    page.click("summary:has-text('满意度评价')")
    page.select_option("details[open] select[name=satisfaction]", "5")
    page.click("details[open] button:has-text('确认：满意度评价')")
    assert "★★★★★" in page.content()
