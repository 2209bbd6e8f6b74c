"""The dashboard's figures (page and API) agree with counts made directly from the rows,
every figure links to the worklist filtered to exactly those items, and bad input is refused."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core.db import utcnow, write_transaction
from core.extensions import db
from issues.models import RenovationIssue
from workflow.audit import AuditEntry
from tests.issues.helpers import fire, raise_demand, raised_earlier


@pytest.fixture
def items(app, world):
    """C1: one resolved and rated 5, one rejected, one escalated, one untouched, one rated 2;
    C2: one untouched raised by the grid worker there."""
    with app.app_context():
        a = raise_demand(world)
        fire("group", a, "resolve", reason="已修好")
        fire("resident", a, "rate", satisfaction="5")
        b = raise_demand(world, title="路面破损")
        fire("group", b, "reject", reason="不属于改造范围")
        c = raise_demand(world, title="飞线充电")
        fire("group", c, "escalate")
        d = raise_demand(world, title="屋顶漏水")
        e = raise_demand(world, title="雨水管", category="basic", subcategory="drainage")
        fire("group", e, "resolve", reason="已疏通")
        fire("resident", e, "rate", satisfaction="3")  # not satisfied (below 4), not low enough to reopen
        f = raise_demand(world, username="grid2", household_index=16, title="东区路灯")
        db.session.remove()
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


def _direct(prefix: str | None = None) -> dict:
    """The figures counted straight from the rows and the audit entries, in Python."""
    now = utcnow()
    rows = db.session.scalars(db.select(RenovationIssue)).all()
    if prefix:
        rows = [r for r in rows if r.path.startswith(prefix)]
    figures = dict(total=len(rows), ended=0, resolved=0, rated=0, satisfied=0, on_time=0, late=0, overdue=0)
    for r in rows:
        figures["ended"] += r.state in ("resolved", "long_term_management", "closed", "rejected")
        figures["resolved"] += r.state in ("resolved", "long_term_management", "closed")
        figures["rated"] += r.satisfaction is not None
        figures["satisfied"] += (r.satisfaction or 0) >= 4
        figures["overdue"] += bool(r.open and r.due_at and r.due_at < now)
        entries = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.subject_type == "renovation_issue", AuditEntry.subject_id == r.id).order_by(AuditEntry.seq)).all()
        first, following = entries[0], entries[1] if len(entries) > 1 else None
        if (following is not None and following.actor_id not in (None, r.raised_by_id)
                and (first.due_at is None or following.created_at <= first.due_at)):
            figures["on_time"] += 1
        elif following is not None or (first.due_at is not None and first.due_at < now):
            figures["late"] += 1
    return figures


def _api_figures(figures: dict) -> dict:
    return {"total": figures["total"], "ended": figures["ended"], "resolved": figures["resolved"],
            "rated": figures["rated"], "satisfied": figures["satisfied"], "on_time": figures["responded_on_time"],
            "late": figures["responded_late"], "overdue": figures["overdue"]}


def test_api_figures_agree_with_a_direct_count(app, client, auth, items):
    auth.login("street")
    body = client.get("/api/v1/stats").get_json()
    with app.app_context():
        direct = _direct()
        c1 = _direct(db.session.get(RenovationIssue, items["a"]).estate.path)
    assert _api_figures(body["figures"]) == direct
    assert direct == dict(total=6, ended=3, resolved=2, rated=2, satisfied=1, on_time=4, late=0, overdue=0)
    assert body["figures"]["resolution_rate"] == "66.7"
    assert body["figures"]["satisfaction_rate"] == "50.0"
    assert body["figures"]["response_rate"] == "100.0"
    assert body["figures"]["mean_rating"] == "4.00"
    children = {child["name"]: _api_figures(child["figures"]) for child in body["children"]}
    assert children["第1社区党委"] == c1 and children["第2社区党委"]["total"] == 1
    assert {c["code"]: c["count"] for c in body["by_state"]}["review_grid"] == 1
    assert sum(m["raised"] for m in body["trend"]) == 6


def test_a_late_answer_and_a_passed_deadline_count_as_late(app, client, auth, items, world):
    with app.app_context():
        # Raised a month ago: one answered only now, after its first deadline; one never answered.
        answered = raised_earlier(world, 30, title="楼道扶手松动")
        raised_earlier(world, 30, title="单元门禁损坏")
        fire("group", answered, "escalate")
        direct = _direct()
    auth.login("street")
    body = client.get("/api/v1/stats").get_json()
    assert direct["late"] == 2 and _api_figures(body["figures"]) == direct
    assert body["figures"]["response_rate"] == "66.7"
    listed = client.get("/issues/?queue=all&response=late&from=2000-01-01&to=2100-01-01").get_data(as_text=True)
    assert "共 2 项" in listed


def _count_on(client, url: str) -> int:
    page = client.get(url.replace("&amp;", "&")).get_data(as_text=True)
    return int(re.search(r"(\d+) (?:issues|件)", page).group(1)) if re.search(r"(\d+) (?:issues|件)", page) else -1


def test_every_figure_links_to_exactly_its_items(app, client, auth, items):
    auth.login("street")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "响应率" in page and "解决率" in page and "满意率" in page
    assert "<svg" in page and "script" not in page.split("<main", 1)[-1].split("</main>")[0]
    body = client.get("/api/v1/stats").get_json()["figures"]
    links = dict(re.findall(r'<a href="(/issues/\?[^"]+)">([^<]+)</a>', page))
    checked = 0
    for url, text in links.items():
        numbers = re.findall(r"\d+", text)
        if "%" in text or not numbers:
            continue
        listed = client.get(url.replace("&amp;", "&")).get_data(as_text=True)
        shown = re.search(r"共 (\d+) 项", listed)
        assert shown and int(shown.group(1)) == int(numbers[-1]), (url, text)
        checked += 1
    assert checked >= 6
    resolved = client.get(f"/issues/?queue=all&outcome=resolved&from=2000-01-01&to=2100-01-01").get_data(as_text=True)
    assert re.search(r"共 (\d+) 项", resolved).group(1) == str(body["resolved"])


def test_drill_down_child_by_child_and_nothing_outside_the_subtree(app, client, auth, items, world):
    auth.login("community")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "第1社区党委" in page and f"node={world.node_ids['C1G1']}" in page
    grid = client.get(f"/dashboard?node={world.node_ids['C1G1']}")
    assert grid.status_code == 200 and f"node={world.node_ids['C1G1B1']}" in grid.get_data(as_text=True)
    group = client.get(f"/dashboard?node={world.node_ids['C1G1B1']}")
    assert group.status_code == 200
    assert client.get(f"/dashboard?node={world.node_ids['C2']}").status_code == 404
    assert client.get(f"/api/v1/stats?node={world.node_ids['C2']}").status_code == 404
    assert client.get("/dashboard?node=99999999").status_code == 404
    assert client.get("/dashboard?node=abc").status_code == 404


def test_unknown_period_and_bad_days_are_refused_in_words(client, auth, world):
    auth.login("street")
    page = client.get("/dashboard?period=fortnight")
    assert page.status_code == 400 and "无法识别的统计期" in page.get_data(as_text=True)
    api = client.get("/api/v1/stats?period=fortnight")
    assert api.status_code == 400 and api.get_json()["error"] == "bad_period"
    assert client.get("/api/v1/stats?period=custom&from=2026-02-01&to=2026-01-01").status_code == 400
    assert client.get("/api/v1/stats?period=custom&from=2026-13-01&to=2026-01-01").status_code == 400
    custom = client.get("/api/v1/stats?period=custom&from=2020-01-01&to=2020-12-31").get_json()
    assert custom["figures"]["total"] == 0 and custom["figures"]["response_rate"] is None


def test_residents_and_visitors_have_no_dashboard(client, auth, world):
    assert client.get("/api/v1/stats").status_code == 401
    auth.login("resident")
    assert client.get("/dashboard").status_code == 403
    assert "/dashboard" not in client.get("/").get_data(as_text=True)


def test_the_api_is_described(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/stats" in spec["paths"] and "StatsFigures" in spec["components"]["schemas"]


def test_the_worklist_refuses_malformed_days_and_keeps_the_filters_when_paging(client, auth, items):
    auth.login("street")
    assert client.get("/issues/?queue=all&from=yesterday").status_code == 400
    page = client.get("/issues/?queue=all&outcome=ended&from=2000-01-01&to=2100-01-01").get_data(as_text=True)
    assert "共 3 项" in page and 'name="outcome" value="ended"' in page


def test_each_period_is_this_month_quarter_or_year(client, auth, items):
    auth.login("street")
    totals = {kind: client.get(f"/api/v1/stats?period={kind}").get_json() for kind in ("month", "quarter", "year")}
    assert {kind: body["figures"]["total"] for kind, body in totals.items()} == {"month": 6, "quarter": 6, "year": 6}
    assert totals["year"]["period"]["from"].endswith("-01-01") and totals["year"]["period"]["to"].endswith("-12-31")
    assert totals["month"]["period"]["from"].endswith("-01")
