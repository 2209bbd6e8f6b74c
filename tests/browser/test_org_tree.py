"""A person logs in on a phone-sized screen and drills down the org tree to a household."""
from tests.browser.conftest import login
from tests.conftest import PASSWORD


def test_street_officer_drills_down_from_street_to_household(live_server, page, world):
    login(page, live_server, "street", PASSWORD)
    assert "您好，street用户" in page.content()
    page.click("text=菜单")  # on a phone the entries sit behind the menu button
    page.click("text=组织架构")
    assert page.locator("h1").inner_text().startswith("测试街道党工委")
    page.click("text=第1社区党委")
    page.click("text=测试1小区")
    page.click("text=1号楼")
    page.click("text=1单元")
    page.click("text=101")
    page.wait_for_url("**/households/*")
    page.wait_for_load_state()
    assert "登记面积" in page.content()
    assert "81.50" in page.content()


def test_wrong_password_shows_chinese_error(live_server, page, world):
    login(page, live_server, "street", "wrong-password-1")
    assert "账号或密码错误" in page.content()
