"""Roster imports from the web page run as jobs outside the request: the upload queues
a job and redirects to its page, which shows the progress and then the outcome."""
from __future__ import annotations

import hashlib
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import storage
from core.db import in_write_transaction, is_sqlite, utcnow, write_transaction
from core.extensions import db
from orgs import roster
from orgs.models import Person, RosterImport
from tests.orgs.test_roster import GOOD_ROWS, counts, household, row, snapshot, workbook_bytes


def post_file(auth, estate_id: int, data: bytes, filename: str = "名册.xlsx"):
    return auth.post(f"/estates/{estate_id}/roster", {"file": (io.BytesIO(data), filename)},
                     content_type="multipart/form-data")


def queue(auth, estate_id: int, data: bytes, filename: str = "名册.xlsx") -> str:
    """Upload; returns the job page the upload redirects to."""
    response = post_file(auth, estate_id, data, filename)
    assert response.status_code == 303
    return response.location


def run_jobs(app) -> list[int]:
    with app.app_context():
        return roster.run_queued_jobs()


def jobs(app) -> list[dict]:
    with app.app_context():
        return [
            {"id": job.id, "estate_id": job.estate_id, "person_id": job.person_id, "filename": job.filename,
             "sha256": job.sha256, "status": job.status, "summary": job.summary, "counts": job.counts,
             "errors": job.errors, "errors_total": job.errors_total, "finished_at": job.finished_at,
             "size": job.size}
            for job in db.session.scalars(select(RosterImport).order_by(RosterImport.id))
        ]


def text(response) -> str:
    return response.get_data(as_text=True)


# --- the upload queues a job; the job runs; its page shows the outcome ---------------

def test_upload_stores_the_file_queues_a_job_and_redirects_to_its_page(app, auth, client, world):
    data = workbook_bytes(GOOD_ROWS)
    before = counts(app)
    auth.login("community")
    location = queue(auth, world.estate_ids[0], data, "翠湖名册.xlsx")
    [job] = jobs(app)
    assert location.endswith(f"/estates/{world.estate_ids[0]}/roster/imports/{job['id']}")
    assert job["status"] == "queued" and job["filename"] == "翠湖名册.xlsx"
    assert job["estate_id"] == world.estate_ids[0] and job["person_id"] == world.person_ids["community"]
    assert job["sha256"] == hashlib.sha256(data).hexdigest()
    with app.app_context():
        assert storage.get(job["sha256"]) == data
    assert counts(app) == before  # nothing is imported in the request

    page = client.get(location)
    assert page.status_code == 200
    assert "正在排队，等待开始导入" in text(page)
    assert "<progress" in text(page)
    assert "/static/js/roster_import.js" in text(page)


def test_the_job_imports_and_its_page_shows_the_summary_in_chinese(app, auth, client, world):
    before = counts(app)
    auth.login("community")
    location = queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    assert run_jobs(app) == [jobs(app)[0]["id"]]
    page = client.get(location)
    assert page.status_code == 200
    assert "导入完成" in text(page)
    assert "导入5行：新增住户5户" in text(page)
    assert "<progress" not in text(page) and "roster_import.js" not in text(page)
    after = counts(app)
    assert after["household"] == before["household"] + 5
    assert after["person"] == before["person"] + 4
    assert household(app, "3号楼", "1单元", "101")["owners"] == [("张三", "13900000001")]
    [job] = jobs(app)
    assert job["status"] == "done" and job["finished_at"] is not None
    assert job["counts"]["households_created"] == 5 and job["counts"]["people_created"] == 4


def test_the_roster_page_lists_recent_imports_with_their_status(app, auth, client, world):
    auth.login("community")
    queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS), "第一批.xlsx")
    run_jobs(app)
    queue(auth, world.estate_ids[0], workbook_bytes([row(room="999")]), "第二批.xlsx")
    page = text(client.get(f"/estates/{world.estate_ids[0]}/roster"))
    assert "最近的导入" in page
    assert "第一批.xlsx" in page and "已导入" in page
    assert "第二批.xlsx" in page and "等待中" in page
    assert page.count("<progress") == 1  # the waiting one
    assert "第一批.xlsx" not in text(client.get(f"/estates/{world.estate_ids[1]}/roster"))


def test_progress_reaches_the_job_row_and_the_status_endpoint_while_the_import_runs(app, auth, client, world,
                                                                                     monkeypatch):
    """Observed from other connections, as another app process would see it."""
    auth.login("community")
    location = queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    job_id = jobs(app)[0]["id"]
    seen: list[tuple] = []
    pages: list[dict] = []
    report_progress = roster.jobs._JobProgress.__call__

    def observed(self, phase, done, total):
        report_progress(self, phase, done, total)
        if is_sqlite() and in_write_transaction():
            return  # another connection of this thread would wait for the import's database lock
        with db.engine.connect() as connection:
            seen.append(tuple(connection.execute(
                select(RosterImport.status, RosterImport.phase, RosterImport.rows_done, RosterImport.rows_total)
                .where(RosterImport.id == job_id)).one()))
        if phase == roster.READ:  # from another thread: a request with its own app context and session
            with ThreadPoolExecutor(1) as other_process:
                pages.append(other_process.submit(client.get, f"{location}/status").result().get_json())

    monkeypatch.setattr(roster.jobs._JobProgress, "__call__", observed)
    run_jobs(app)
    with app.app_context():
        sqlite = is_sqlite()
    assert ("running", "read", 0, 5) in seen
    assert ("running", "read", 5, 5) in seen
    assert ("running", "write", 0, 5) in seen  # written before the write transaction begins
    if not sqlite:  # SQLite has one writer at a time: the import's transaction
        assert ("running", "write", 5, 5) in seen
    assert {"state": "running", "finished": False, "phase": "read", "rows_done": 5, "rows_total": 5,
            "text": "正在读取并检查数据行：5 / 5。"}.items() <= pages[-1].items()
    finished = client.get(f"{location}/status").get_json()
    assert finished["state"] == "done" and finished["finished"] is True
    assert "新增住户5户" in finished["text"]


def test_a_running_job_shows_its_phase_and_a_progress_bar(app, auth, client, world):
    auth.login("community")
    location = queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    with app.app_context(), write_transaction():
        db.session.execute(RosterImport.__table__.update().values(
            status="running", phase="read", rows_done=2000, rows_total=5000))
    page = text(client.get(location))
    assert "正在导入" in page and "导入中" in page
    assert "正在读取并检查数据行：2000 / 5000" in page
    assert 'max="5000" value="2000"' in page


# --- failures: nothing half-written, the job says why --------------------------------

def test_bad_rows_fail_the_job_and_its_page_lists_every_bad_row(app, auth, client, world):
    auth.login("community")
    before = snapshot(app)
    location = queue(auth, world.estate_ids[0], workbook_bytes([
        row(room="101", area="-1"), row(room="102"), row(room="103", area="abc", unsold="是"),
    ]))
    run_jobs(app)
    page = text(client.get(location))
    assert "未导入任何数据" in page and "发现3个问题" in page
    assert "第2行：面积 -1 为负数" in page and "第4行：面积 abc 不是数字" in page
    assert "第4行：未售住户不能有业主" in page
    assert snapshot(app) == before
    [job] = jobs(app)
    assert job["status"] == "failed" and job["errors_total"] == 3 and len(job["errors"]) == 3


def test_a_failure_while_writing_leaves_nothing_half_written(app, auth, client, world, monkeypatch):
    """Households are already inserted when the owners' links fail: all of it is rolled
    back, while the job's own progress (written in transactions of its own) stays."""
    def broken(self, relinked, links):
        raise RuntimeError("disk full")

    monkeypatch.setattr(roster.importing._Import, "_relink", broken)
    auth.login("community")
    before = snapshot(app)
    location = queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    run_jobs(app)
    assert snapshot(app) == before
    page = text(client.get(location))
    assert "未导入任何数据" in page and "系统出现错误，本次操作未保存任何内容" in page
    [job] = jobs(app)
    assert job["status"] == "failed"
    with app.app_context():
        assert db.session.get(RosterImport, job["id"]).phase == "write"


def test_a_job_whose_uploader_was_deactivated_imports_nothing(app, auth, client, world):
    auth.login("community")
    before = snapshot(app)
    location = queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    with app.app_context(), write_transaction():
        db.session.get(Person, world.person_ids["community"]).active = False
    run_jobs(app)
    assert snapshot(app) == before
    assert jobs(app)[0]["summary"] == "上传该文件的账号已停用。未导入任何数据。"
    auth.login("admin")
    assert "上传该文件的账号已停用" in text(client.get(location))


def test_a_job_whose_process_died_is_shown_interrupted_and_the_runner_fails_it(app, auth, client, runner, world):
    auth.login("community")
    location = queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    with app.app_context(), write_transaction():
        db.session.execute(RosterImport.__table__.update().values(
            status="running", phase="read", updated_at=utcnow() - timedelta(minutes=roster.STALE_MINUTES + 1)))
    page = text(client.get(location))
    assert "已中断" in page and "已有15分钟没有进展" in page and "<progress" not in page
    assert client.get(f"{location}/status").get_json()["finished"] is True

    result = runner.invoke(args=["roster", "run-jobs"])
    assert result.exit_code == 0, result.output
    assert "1个未能完成的名册导入已标记为失败" in result.output
    [job] = jobs(app)
    assert job["status"] == "failed" and "已有15分钟没有进展" in job["summary"]
    assert "已有15分钟没有进展" in text(client.get(location))
    with app.app_context():
        assert not storage.exists(job["sha256"])  # the residents' data goes with the job


def test_an_ended_job_keeps_no_copy_of_the_file_unless_a_waiting_job_has_the_same(app, auth, client, world):
    """Names and phone numbers are kept as long as the import needs them: the file is
    deleted when its job ends (imported or failed), the row keeps name, size and hash."""
    auth.login("community")
    good, bad = workbook_bytes(GOOD_ROWS), workbook_bytes([row(room="101", area="-1")])
    queue(auth, world.estate_ids[0], good)
    queue(auth, world.estate_ids[0], bad)
    queue(auth, world.estate_ids[0], good)  # the same bytes, uploaded again while the first waits
    first, failing, again = jobs(app)
    with app.app_context():
        assert roster.run_import_job(first["id"]) == "done"
        assert storage.exists(first["sha256"])  # the third job still needs these bytes
        assert roster.run_import_job(failing["id"]) == "failed"
        assert not storage.exists(failing["sha256"])
        assert roster.run_import_job(again["id"]) == "done"
        assert not storage.exists(again["sha256"])
    assert [(job["status"], job["sha256"], job["size"]) for job in jobs(app)] == [
        ("done", first["sha256"], len(good)), ("failed", failing["sha256"], len(bad)), ("done", first["sha256"], len(good))]


def test_a_job_runs_once(app, auth, world):
    auth.login("community")
    queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    job_id = jobs(app)[0]["id"]
    with app.app_context():
        assert roster.run_import_job(job_id) == "done"
        assert roster.run_import_job(job_id) is None
        assert roster.run_queued_jobs() == []


def test_the_summary_is_written_in_the_language_of_the_upload(app, auth, client, world):
    auth.login("community")
    auth.post("/language", {"locale": "en", "next": "/"})
    location = queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    run_jobs(app)
    assert "Imported 5 rows: 5 new households" in text(client.get(location))


# --- the upload refuses what it can see at once ---------------------------------------

@pytest.mark.parametrize("data, message", [
    ("楼栋,单元,房号\n3号楼,1单元,101\n".encode(), "不是可以读取的 .xlsx 工作簿"),
    (workbook_bytes([["3号楼", "1单元", "101"]], header=["楼栋", "单元", "房号"]), "缺少列：专有部分面积(㎡)"),
    (workbook_bytes([]), "没有住户数据行"),
])
def test_a_file_that_cannot_be_imported_is_refused_at_upload_with_422(app, auth, world, tmp_path, data, message):
    auth.login("community")
    response = post_file(auth, world.estate_ids[0], data)
    assert response.status_code == 422
    assert "未导入任何数据" in text(response) and message in text(response)
    assert jobs(app) == []
    assert not (tmp_path / "storage").exists() or not any((tmp_path / "storage").rglob("*"))


def test_a_file_too_large_is_refused_with_413(app, auth, world):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    auth.login("community")
    response = post_file(auth, world.estate_ids[0], workbook_bytes([row(room=str(n)) for n in range(400)]))
    assert response.status_code == 413
    assert "上传的文件过大" in text(response)
    assert jobs(app) == []


def test_upload_without_csrf_token_queues_nothing(app, auth, client, world):
    auth.login("community")
    response = client.post(f"/estates/{world.estate_ids[0]}/roster",
                           data={"file": (io.BytesIO(workbook_bytes(GOOD_ROWS)), "名册.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert jobs(app) == []


# --- who may see a job ------------------------------------------------------------------

def test_another_communitys_officer_gets_404_for_the_job(app, auth, client, world):
    auth.login("community")
    location = queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    job_id = jobs(app)[0]["id"]
    auth.logout()
    auth.login("community2")
    assert client.get(location).status_code == 404
    assert client.get(f"{location}/status").status_code == 404
    # Their own estate's URL does not lead to another estate's job either.
    assert client.get(f"/estates/{world.estate_ids[1]}/roster/imports/{job_id}").status_code == 404
    assert client.get(f"/estates/{world.estate_ids[1]}/roster/imports/{job_id}/status").status_code == 404


def test_those_who_may_not_import_get_403_and_the_unknown_job_404(app, auth, client, world):
    auth.login("community")
    location = queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    assert client.get(f"/estates/{world.estate_ids[0]}/roster/imports/999999").status_code == 404
    auth.logout()
    auth.login("property")
    assert client.get(location).status_code == 403
    assert client.get(f"{location}/status").status_code == 403
    auth.logout()
    assert client.get(location).status_code == 302  # to the login page


# --- who runs the jobs ----------------------------------------------------------------------

def test_flask_roster_run_jobs_runs_the_waiting_jobs(app, auth, client, runner, world):
    auth.login("community")
    first = queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS), "第一批.xlsx")
    second = queue(auth, world.estate_ids[0], workbook_bytes([row(room="101", area="-1")]), "第二批.xlsx")
    result = runner.invoke(args=["roster", "run-jobs"])
    assert result.exit_code == 0, result.output
    assert "（第一批.xlsx）：导入5行：新增住户5户" in result.output
    assert "（第二批.xlsx）：未导入任何数据：发现1个问题" in result.output
    assert [job["status"] for job in jobs(app)] == ["done", "failed"]
    assert "导入完成" in text(client.get(first)) and "第2行：面积 -1 为负数" in text(client.get(second))
    assert runner.invoke(args=["roster", "run-jobs"]).output == ""


def test_in_thread_mode_the_web_process_runs_the_job_itself(app, auth, client, world):
    app.config["ROSTER_IMPORTS_IN_THREAD"] = True
    auth.login("community")
    location = queue(auth, world.estate_ids[0], workbook_bytes(GOOD_ROWS))
    deadline = time.monotonic() + 60
    while not client.get(f"{location}/status").get_json()["finished"]:
        assert time.monotonic() < deadline, "the import thread did not finish"
        time.sleep(0.1)
    for thread in threading.enumerate():
        if thread.name.startswith("roster-import-"):
            thread.join(timeout=30)
    assert "导入完成" in text(client.get(location))
    assert household(app, "4号楼", "1单元", "101")["owners"] == [("赵六", None)]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RosterImport)
                                 .where(RosterImport.status == "done")) == 1


def test_the_status_script_is_served_from_the_app(client):
    script = client.get("/static/js/roster_import.js")
    assert script.status_code == 200
    assert "data-status-url" in script.get_data(as_text=True)
