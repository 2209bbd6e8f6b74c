"""Reporting as residents do (issue 15 item 8): a one-tap report from the home page, an
issue at the stairwell, building or public area with the exact spot and map point, and
the home page listing one's flat once."""
from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import select

from core.db import write_transaction
from core.extensions import db
from issues.models import RenovationIssue
from orgs import services as S
from orgs import tokens
from orgs.models import Household, Person


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return buffer.getvalue()


def _issues(app) -> list[RenovationIssue]:
    with app.app_context():
        return list(db.session.scalars(select(RenovationIssue).order_by(RenovationIssue.id)))


def test_the_home_page_lists_a_flat_once_and_offers_a_one_tap_report(app, client, auth, world):
    with app.app_context(), write_transaction():
        resident = db.session.scalar(select(Person).where(Person.username == "resident"))
        S.link_household(resident, db.session.get(Household, world.household_ids[0]), "resident")  # owner too
    auth.login("resident")
    page = client.get("/").get_data(as_text=True)
    mine = re.search(r"我的房屋</h2>(.*?)</section>", page, re.S).group(1)
    assert mine.count("<li>") == 1
    assert 'id="quick-report"' in page and 'capture="environment"' in page
    assert 'id="home-conventions"' in page


def test_a_one_tap_report_needs_no_title(app, client, auth, world):
    auth.login("resident")
    response = auth.post("/issues/new", {
        "mode": "demand", "description": "3楼楼道灯不亮，晚上很黑\n已经一周了", "subcategory": "stairs",
        "place": f"household:{world.household_ids[0]}", "photos": (io.BytesIO(_png()), "灯.png", "image/png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    (issue,) = _issues(app)
    assert (issue.title, issue.category, issue.subcategory) == ("3楼楼道灯不亮，晚上很黑", "basic", "stairs")


def test_a_resident_reports_a_public_area_with_the_spot_and_map_point(app, client, auth, world):
    auth.login("resident")
    form = client.get("/issues/new").get_data(as_text=True)
    assert f'value="estate:{world.estate_ids[0]}"' in form and "小区公共区域" in form
    assert f'value="estate:{world.estate_ids[1]}"' not in form
    response = auth.post("/issues/new", {
        "mode": "demand", "title": "自行车棚顶棚漏雨", "description": "", "subcategory": "ebike_shed",
        "place": f"estate:{world.estate_ids[0]}", "location": "2号楼北侧自行车棚",
        "latitude": "36.066712", "longitude": "120.382641",
    })
    assert response.status_code == 302
    (issue,) = _issues(app)
    assert (issue.building_id, issue.location, str(issue.latitude), str(issue.longitude)) == (
        None, "2号楼北侧自行车棚", "36.066712", "120.382641")
    page = client.get(f"/issues/{issue.id}").get_data(as_text=True)
    assert "测试1小区 · 2号楼北侧自行车棚" in page and 'href="geo:36.066712,120.382641"' in page
    api = client.get(f"/api/v1/issues/{issue.id}").get_json()
    assert api["location"] == "2号楼北侧自行车棚" and api["point"] == {"latitude": 36.066712, "longitude": 120.382641}


def test_bad_places_and_points_are_refused_and_nothing_is_written(app, client, auth, world):
    auth.login("resident")
    base = {"mode": "demand", "title": "路灯坏了", "subcategory": "lighting"}
    other_estate = auth.post("/issues/new", {**base, "place": f"estate:{world.estate_ids[1]}"})
    assert other_estate.status_code == 422  # not a place the form offers her
    for latitude, longitude in (("91", "120"), ("36.1", ""), ("abc", "120"), ("NaN", "1")):
        response = auth.post("/issues/new", {**base, "place": f"estate:{world.estate_ids[0]}",
                                             "latitude": latitude, "longitude": longitude})
        assert response.status_code == 422, (latitude, longitude)
    with app.app_context():
        _row, secret = tokens.create(db.session.scalar(select(Person).where(Person.username == "resident")), "phone")
    bearer = {"Authorization": f"Bearer {secret}"}
    body = {**base, "category": "improvement", "description": ""}
    api = client.post("/api/v1/issues", json={**body, "place": {"kind": "estate", "id": world.estate_ids[1]}},
                      headers=bearer)
    assert api.status_code == 404  # another estate: not hers to report on
    api = client.post("/api/v1/issues", json={**body, "place": {"kind": "estate", "id": world.estate_ids[0]},
                                              "point": {"latitude": 36.1}}, headers=bearer)
    assert api.status_code == 422
    assert _issues(app) == []
