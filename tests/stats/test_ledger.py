"""Ledgers: asked for from the dashboard, written as a job, opened with openpyxl and
checked row by row; the same permission filter as the pages; an empty ledger has its header."""
from __future__ import annotations

import io
import re

from datetime import timedelta

import openpyxl

from core.db import utcnow

from core.extensions import db
from issues.models import RenovationIssue
from stats import ledger
from tests.issues.helpers import fire, raise_demand
from workflow import sweep

SHEETS = ["改造事项", "表决", "下派任务", "联合验收", "矛盾纠纷"]


def _ask(client, auth, node_id, period="year", **extra):
    response = auth.post("/ledgers", {"node": str(node_id), "period": period, **extra})
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    return int(re.search(r"/ledgers/(\d+)", response.headers["Location"]).group(1))


def _workbook(app, client, job_id):
    with app.app_context():
        assert ledger.run_queued_jobs() == [job_id]
    page = client.get(f"/ledgers/{job_id}").get_data(as_text=True)
    assert "已生成" in page and "下载台账" in page
    download = client.get(f"/ledgers/{job_id}/ledger.xlsx")
    assert download.status_code == 200 and download.mimetype == ledger.XLSX_TYPE
    return openpyxl.load_workbook(io.BytesIO(download.data))


def test_the_issue_sheet_holds_every_item_row_by_row(app, client, auth, world):
    with app.app_context():
        a = raise_demand(world, title="=HYPERLINK(\"http://evil\")")
        fire("group", a, "resolve", reason="已修好")
        fire("resident", a, "rate", satisfaction="4")
        b = raise_demand(world, title="路面破损")
        c = raise_demand(world, username="grid2", household_index=16, title="东区路灯")
        expected = {i.id: i for i in db.session.scalars(db.select(RenovationIssue).order_by(RenovationIssue.id))}
        expected = {k: (v.title, v.state, v.satisfaction, v.path) for k, v in expected.items()}
        db.session.remove()
    auth.login("street")
    job_id = _ask(client, auth, world.node_ids["S1"])
    page = client.get(f"/ledgers/{job_id}").get_data(as_text=True)
    assert "等待" in page and 'http-equiv="refresh"' in page
    book = _workbook(app, client, job_id)
    assert book.sheetnames == SHEETS
    rows = list(book["改造事项"].iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "标题", "组织路径")
    assert [r[0] for r in rows[1:]] == sorted(expected) == [a, b, c]
    for row in rows[1:]:
        title, state, satisfaction, _path = expected[row[0]]
        assert row[1] == title and row[15] == satisfaction
    assert rows[1][7] == "已解决" and rows[1][14] == "已修好" and rows[2][7] != "已解决"
    assert "第1社区党委" in rows[1][2] and "第2社区党委" in rows[3][2]
    # A title that looks like a formula stays text.
    cell = book["改造事项"]["B2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    for name in SHEETS[1:]:
        assert book[name].max_row == 1  # a header, nothing else


def test_a_grid_workers_ledger_holds_only_the_grid(app, client, auth, world):
    with app.app_context():
        raise_demand(world, title="一区")
        mine = raise_demand(world, username="grid2", household_index=16, title="东区路灯")
        db.session.remove()
    auth.login("grid2")
    book = _workbook(app, client, _ask(client, auth, world.node_ids["C2G1"]))
    rows = list(book["改造事项"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [mine]
    # Another community's ledger is not theirs to ask for; another person's job is not theirs to see.
    assert auth.post("/ledgers", {"node": str(world.node_ids["C1"]), "period": "year"}).status_code == 404
    auth.logout()
    auth.login("street")
    assert client.get("/ledgers/1").status_code == 404


def test_an_empty_ledger_is_a_workbook_with_its_headers(app, client, auth, world):
    auth.login("street")
    job_id = _ask(client, auth, world.node_ids["S1"], period="custom", **{"from": "2020-01-01", "to": "2020-01-31"})
    book = _workbook(app, client, job_id)
    for name in SHEETS:
        rows = list(book[name].iter_rows(values_only=True))
        assert len(rows) == 1 and rows[0][0]


def test_a_bad_period_queues_nothing(app, client, auth, world):
    auth.login("street")
    response = auth.post("/ledgers", {"node": str(world.node_ids["S1"]), "period": "decade"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ledger.LedgerJob)) == 0


def test_a_vote_is_in_the_ledger_with_its_exact_figures(app, client, auth, world):
    from procedures import voting
    from tests.procedures import vote_helpers as V

    with app.app_context():
        unit = V.make_unit(world, ["80.50", "90.25", "100.00", "70.00"])
        item = V.elevator_issue(unit)
        vote_id = V.open_issue_vote(item)
        V.paper("grid", vote_id, (unit.households[0], "agree"), (unit.households[1], "agree"),
                (unit.households[2], "agree"), (unit.households[3], "disagree"))
        V.close(vote_id)
        result = voting.stored_result(V.vote(vote_id))
        db.session.remove()
    auth.login("street")
    book = _workbook(app, client, _ask(client, auth, world.node_ids["S1"]))
    rows = list(book["表决"].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == vote_id and rows[1][2] == item
    header = rows[0]
    figures = dict(zip(header, rows[1]))
    assert figures["应参与面积（平方米）"] == str(result.entitled_area) == "340.75"
    assert figures["参与表决面积"] == "340.75" and figures["同意面积"] == "270.75"
    assert figures["同意人数"] == 3 and figures["反对人数"] == 1 and figures["应参与业主人数"] == 4
    assert figures["是否通过"] == ("是" if result.passed else "否")
    assert "3/4" in figures["表决规则核验"] or "270.75" in figures["表决规则核验"]


def test_a_ledger_job_that_stopped_is_marked_failed_by_the_sweep(app, client, auth, world):
    auth.login("street")
    job_id = _ask(client, auth, world.node_ids["S1"])
    with app.app_context():
        # The process writing it died: the job stays "running" with no progress.
        table = ledger.LedgerJob.__table__
        with db.engine.begin() as connection:
            connection.execute(table.update().where(table.c.id == job_id).values(
                status=ledger.RUNNING, updated_at=utcnow() - timedelta(minutes=ledger.STALE_MINUTES - 1)))
        assert sweep.run()["ledger_jobs_failed"] == 0  # still within the time it may take
        with db.engine.begin() as connection:
            connection.execute(table.update().where(table.c.id == job_id).values(
                updated_at=utcnow() - timedelta(minutes=ledger.STALE_MINUTES + 1)))
        assert sweep.run()["ledger_jobs_failed"] == 1
        job = db.session.get(ledger.LedgerJob, job_id)
        assert job.status == ledger.FAILED and job.finished_at is not None
        assert ledger.run_queued_jobs() == []  # not taken up again
    page = client.get(f"/ledgers/{job_id}").get_data(as_text=True)
    assert "台账生成未能完成" in page and "请重新申请生成" in page
    assert 'http-equiv="refresh"' not in page
    assert client.get(f"/ledgers/{job_id}/ledger.xlsx").status_code == 404
