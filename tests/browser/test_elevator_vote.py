"""One stairwell unit's elevator vote in the browser: the community opens it, owners vote
online (one changes their mind), the grid worker enters a door-to-door ballot, nothing
is shown before the close, and everyone reads the published result and the notice."""
from __future__ import annotations

from contextlib import contextmanager

from tests.browser.conftest import login
from tests.conftest import PASSWORD
from tests.procedures.vote_helpers import elevator_issue, issue, make_unit


@contextmanager
def session(browser, base_url: str, username: str):
    """A phone-sized browser session logged in as `username`."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)
    login(page, base_url, username, PASSWORD)
    try:
        yield page
    finally:
        context.close()


def vote_online(browser, base_url: str, username: str, *choices: str) -> None:
    with session(browser, base_url, username) as page:
        page.goto(f"{base_url}/votes/")
        page.click("main a[href^='/votes/']")
        for choice in choices:
            page.check(f"#cast input[name=choice][value={choice}]")
            page.click("#cast button[type=submit]")
            page.wait_for_selector("#my-ballot")
        assert page.locator("#vote-result").count() == 0


def test_stairwell_unit_elevator_vote_from_opening_to_published_result(app, world, live_server, browser):
    with app.app_context():
        unit = make_unit(world, ["88.50", "88.50", "90.20", "90.20"], [["ev1"], ["ev2"], ["ev3"], ["ev4"]],
                         number="5单元")
        issue_id = elevator_issue(unit)

    with session(browser, live_server, "community") as page:
        page.goto(f"{live_server}/procedures/renovation_issue/{issue_id}")
        page.click(f"a[href='/votes/new/renovation_issue/{issue_id}']")
        assert page.locator("#rule option").first.get_attribute("value") == "owners_major"
        page.click("main form button[type=submit]")
        page.wait_for_selector("#vote-state")
        vote_path = page.url[len(live_server):]
        assert "5单元" in page.content()

    vote_online(browser, live_server, "ev1", "agree")
    vote_online(browser, live_server, "ev2", "disagree", "agree")

    with session(browser, live_server, "grid") as page:
        page.goto(live_server + vote_path)
        page.select_option("#household_id", str(unit.households[2]))
        page.check("#paper input[name=choice][value=agree]")
        page.select_option("#channel", "door_to_door")
        page.fill("#evidence_ref", "扫楼记录 5单元301 业主签字")
        page.click("#paper button[type=submit]")
        page.wait_for_selector("#paper details")
        assert page.locator("#vote-result").count() == 0

    with session(browser, live_server, "ev4") as page:
        page.goto(live_server + vote_path)
        assert page.locator("#vote-result").count() == 0 and "3/4" not in page.content()

    with session(browser, live_server, "community") as page:
        page.goto(live_server + vote_path)
        assert page.locator("#vote-result").count() == 0
        page.click("#officer form button[type=submit]")
        page.wait_for_selector("#vote-result")
        assert "3/4" in page.inner_text("#vote-result")

    with app.app_context():
        assert issue(issue_id).state == "public_notice"

    with session(browser, live_server, "ev4") as page:
        page.goto(live_server + vote_path)
        result = page.inner_text("#vote-result")
        assert "3/4" in result and "3/3 (100.00%)" in result and " m²" in result
        assert page.locator("#vote-decision.ok").count() == 1
        page.goto(f"{live_server}/procedures/renovation_issue/{issue_id}")
        page.click("#procedures a[href^='/notices/']")
        page.fill("#objection-body", "请说明电梯运行费用如何分摊")
        page.click("#objections form button[type=submit]")
        page.wait_for_selector("#objections article.objection")
        assert "请说明电梯运行费用如何分摊" in page.inner_text("#objections")
