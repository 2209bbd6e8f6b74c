"""An officer uploads a roster and watches the import job's page follow the job until it is
done, through the page's script (served from the app itself, under the strict CSP)."""
import re

from core.db import utcnow, write_transaction
from core.extensions import db
from orgs import roster
from orgs.models import RosterImport
from tests.browser.conftest import login
from tests.conftest import PASSWORD
from tests.orgs.test_roster import GOOD_ROWS, workbook_bytes


def set_job(app, **values) -> None:
    with app.app_context(), write_transaction():
        db.session.execute(RosterImport.__table__.update().values(updated_at=utcnow(), **values))


def test_the_job_page_follows_the_import_until_it_is_done(app, live_server, page, world, tmp_path):
    problems: list[str] = []  # script errors, CSP refusals, failed requests (but the favicon's)
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    login(page, live_server, "community", PASSWORD)
    page.goto(f"{live_server}/estates/{world.estate_ids[0]}/roster")
    path = tmp_path / "名册.xlsx"
    path.write_bytes(workbook_bytes(GOOD_ROWS))
    page.set_input_files("input[type=file]", str(path))
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r"/roster/imports/\d+$"))
    assert "正在排队，等待开始导入" in page.content()

    # As a worker would report its progress: the page takes it up without reloading.
    set_job(app, status="running", phase="read", rows_done=2000, rows_total=5000)
    page.wait_for_selector("text=正在读取并检查数据行：2000 / 5000", timeout=10000)
    assert page.locator("progress").get_attribute("value") == "2000"
    assert page.locator("[data-state-label]").inner_text() == "导入中"
    set_job(app, status="queued", phase=None, rows_done=0, rows_total=None)

    with app.app_context():
        assert roster.run_queued_jobs()
    page.wait_for_selector("text=导入完成", timeout=20000)  # the script saw the job finish and reloaded
    assert "导入5行：新增住户5户" in page.content()
    assert page.locator("progress").count() == 0
    assert problems == []
