"""First run, administration pages and household claims, as a user would check them."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from admin import services
from admin.models import AdminLog, HouseholdClaim
from core.errors import NotFound
from core.extensions import db
from orgs import tokens
from orgs.models import Estate, Household, HouseholdPerson, Membership, OrgNode, Person, StairwellUnit
from tests.conftest import PASSWORD, Auth, csrf_token

NEW_PASSWORD = "another-long-secret"
SETUP = {"street_name": "新华街道党工委", "street_code": "XH", "name": "王管理", "username": "wang",
         "password": PASSWORD, "confirm": PASSWORD}


def post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path if path.startswith("/admin")
                                                                        or path in ("/setup", "/register") else "/")})


# --- first run -------------------------------------------------------------------------

def test_empty_database_offers_setup_then_setup_is_gone(app, client):
    landing = client.get("/").get_data(as_text=True)
    assert "/setup" in landing
    assert "/setup" in client.get("/login").get_data(as_text=True)
    assert client.get("/setup").status_code == 200

    bad = post(client, "/setup", {**SETUP, "confirm": "something-else"})
    assert bad.status_code == 422
    short = post(client, "/setup", {**SETUP, "password": "short", "confirm": "short"})
    assert short.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person)) == 0
        assert db.session.scalar(select(func.count()).select_from(OrgNode)) == 0

    done = post(client, "/setup", SETUP)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert client.get("/setup").status_code == 404
    assert "/setup" not in client.get("/").get_data(as_text=True)
    with app.app_context():
        street = db.session.scalar(select(OrgNode))
        assert (street.name, street.code, street.level_code) == ("新华街道党工委", "XH", "street_committee")
        wang = db.session.scalar(select(Person).where(Person.username == "wang"))
        assert [(m.role, m.org_id) for m in wang.memberships] == [("admin", street.id)]
        assert db.session.scalar(select(AdminLog.action)) == "setup"

    auth = Auth(client)
    assert auth.login("wang").status_code == 302
    page = client.get("/admin/").get_data(as_text=True)
    assert "新华街道党工委" in page
    assert "系统管理" in client.get("/").get_data(as_text=True)


def test_setup_answers_404_once_anyone_exists(world, client):
    assert client.get("/setup").status_code == 404
    token = csrf_token(client, "/login")
    assert client.post("/setup", data={**SETUP, "csrf_token": token}).status_code == 404


def test_two_concurrent_first_runs_exactly_one_wins(app):
    results = []
    barrier = threading.Barrier(2)

    def run(n):
        with app.app_context():
            barrier.wait()
            try:
                services.first_run(f"管理员{n}", f"admin{n}", PASSWORD, PASSWORD, f"S{n}", f"街道{n}")
                results.append("won")
            except NotFound:
                results.append("404")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["404", "won"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person)) == 1
        assert db.session.scalar(select(func.count()).select_from(OrgNode)) == 1


# --- the org tree and places -------------------------------------------------------------

def test_admin_builds_the_tree_and_places(world, client, auth, app):
    auth.login("admin")
    street = world.node_ids["S1"]
    page = client.get(f"/admin/orgs/{street}").get_data(as_text=True)
    assert "第1社区党委" in page
    r = auth.post(f"/admin/orgs/{street}", {"what": "child", "level": "community_committee", "code": "C9",
                                            "name": "第九社区党委"})
    assert r.status_code == 302
    dup = auth.post(f"/admin/orgs/{street}", {"what": "child", "level": "community_committee", "code": "C9",
                                              "name": "重复"})
    assert dup.status_code == 422 and "C9" in dup.get_data(as_text=True)
    with app.app_context():
        c9 = db.session.scalar(select(OrgNode).where(OrgNode.code == "C9"))
        assert c9.parent_id == street and c9.path.startswith(f"/{street}/")
        c9_id = c9.id
    # A level above the parent's is refused.
    up = auth.post(f"/admin/orgs/{c9_id}", {"what": "child", "level": "street_committee", "code": "X", "name": "x"})
    assert up.status_code == 422
    assert auth.post(f"/admin/orgs/{c9_id}", {"what": "rename", "name": "第九社区党委（新）"}).status_code == 302
    assert auth.post(f"/admin/orgs/{c9_id}", {"what": "estate", "code": "E9", "name": "幸福小区",
                                              "address": "幸福路9号"}).status_code == 302
    with app.app_context():
        estate_id = db.session.scalar(select(Estate.id).where(Estate.code == "E9"))
    assert auth.post(f"/admin/estates/{estate_id}", {"what": "building", "number": "1号楼"}).status_code == 302
    with app.app_context():
        building = db.session.scalar(select(Estate).where(Estate.id == estate_id)).buildings[0]
        building_id = building.id
    assert auth.post(f"/admin/estates/{estate_id}", {"what": "unit", "building": building_id,
                                                     "number": "1单元"}).status_code == 302
    with app.app_context():
        unit_id = db.session.scalar(select(StairwellUnit.id).where(StairwellUnit.building_id == building_id))
    assert auth.post(f"/admin/units/{unit_id}", {"what": "household", "room": "101", "area": "88.5",
                                                 "adult_count": "2"}).status_code == 302
    bad = auth.post(f"/admin/units/{unit_id}", {"what": "household", "room": "102", "area": "-3"})
    assert bad.status_code == 422 and "面积" in bad.get_data(as_text=True)
    with app.app_context():
        household = db.session.scalar(select(Household).where(Household.unit_id == unit_id))
        household_id = household.id
        assert str(household.area) == "88.50" and household.path == f"/{street}/{c9_id}/"
    assert auth.post(f"/admin/units/{unit_id}", {"what": "edit", "household": household_id, "area": "90.25",
                                                 "adult_count": "3"}).status_code == 302
    with app.app_context():
        household = db.session.get(Household, household_id)
        assert (str(household.area), household.adult_count) == ("90.25", 3)
        assert db.session.get(OrgNode, c9_id).name == "第九社区党委（新）"
        actions = set(db.session.scalars(select(AdminLog.action)))
        assert {"org.add", "org.rename", "estate.add", "building.add", "unit.add", "household.add",
                "household.edit"} <= actions
    assert "幸福小区" in client.get(f"/admin/units/{unit_id}").get_data(as_text=True)


def test_jurisdiction_outside_is_404_inside_without_right_403(world, client, auth):
    auth.login("community")  # community officer of C1
    assert client.get(f"/admin/orgs/{world.node_ids['C1']}").status_code == 200
    assert client.get(f"/admin/orgs/{world.node_ids['C2']}").status_code == 404
    assert client.get(f"/admin/estates/{world.estate_ids[1]}").status_code == 404
    assert client.get(f"/admin/orgs/{world.node_ids['S1']}").status_code == 404
    auth.logout()
    auth.login("grid")  # grid worker: no administration, but sees their grid
    assert client.get("/admin/").status_code == 404
    assert client.get(f"/admin/orgs/{world.node_ids['C1G1']}").status_code == 403
    auth.logout()
    auth.login("resident")
    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/people/").status_code == 404


# --- accounts -----------------------------------------------------------------------

def test_create_account_temporary_password_must_change(world, client, auth, app):
    auth.login("community")
    r = auth.post("/admin/people/", {"name": "李网格", "username": "li", "phone": "13900000009",
                                     "org": "C1G1", "role": "grid_worker"})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "临时密码" in page
    import re
    temp = re.search(r'id="temp-password" type="text" readonly value="([^"]+)"', page).group(1)
    # An officer cannot make an administrator, nor grant outside the subtree.
    assert auth.post("/admin/people/", {"name": "x", "username": "x1", "org": "C1", "role": "admin"}).status_code == 403
    assert auth.post("/admin/people/", {"name": "x", "username": "x2", "org": "C2", "role": "grid_worker"}).status_code == 404
    auth.logout()

    fresh = app.test_client()
    fresh_auth = Auth(fresh)
    assert fresh_auth.login("li", temp).status_code == 302
    nag = fresh.get("/")
    assert nag.status_code == 302 and nag.headers["Location"].endswith("/password")
    r = fresh.post("/password", data={"current": temp, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                      "csrf_token": csrf_token(fresh, "/password")})
    assert r.status_code == 302
    assert fresh.get("/").status_code == 200
    with app.app_context():
        li = db.session.scalar(select(Person).where(Person.username == "li"))
        assert not li.must_change_password
        assert db.session.scalar(select(AdminLog.action).where(AdminLog.object_id == li.id,
                                                               AdminLog.object_type == "person")) == "account.create"


def test_grant_revoke_and_reset(world, client, auth, app):
    auth.login("admin")
    grid_id = world.person_ids["grid"]
    other = app.test_client()
    Auth(other).login("grid")
    assert other.get("/").status_code == 200
    assert "网格员" in client.get(f"/admin/people/{grid_id}").get_data(as_text=True)
    assert auth.post(f"/admin/people/{grid_id}", {"what": "grant", "org": "C1G1B1",
                                                  "role": "building_group_leader"}).status_code == 302
    with app.app_context():
        roles = {m.role for m in db.session.get(Person, grid_id).memberships}
        assert roles == {"grid_worker", "building_group_leader"}
        membership = db.session.scalar(select(Membership.id).where(Membership.person_id == grid_id,
                                                                    Membership.role == "building_group_leader"))
    assert auth.post(f"/admin/people/{grid_id}", {"what": "revoke", "membership": membership}).status_code == 302
    with app.app_context():
        assert {m.role for m in db.session.get(Person, grid_id).memberships} == {"grid_worker"}

    r = auth.post(f"/admin/people/{grid_id}", {"what": "reset"})
    assert r.status_code == 200
    import re
    temp = re.search(r'value="([^"]+)" autocomplete="off"', r.get_data(as_text=True)).group(1)
    assert len(temp) >= 10
    # The old session has ended and the old password no longer works.
    assert other.get("/").status_code == 200 and "登录" in other.get("/").get_data(as_text=True)
    third = app.test_client()
    assert Auth(third).login("grid", PASSWORD).status_code != 302
    assert Auth(third).login("grid", temp).status_code == 302
    assert third.get("/dispatches/").headers["Location"].endswith("/password")


def test_deactivating_an_account_ends_its_sessions_and_tokens_and_can_be_undone(world, client, auth, app):
    grid_id = world.person_ids["grid"]
    with app.app_context():
        _token, secret = tokens.create(db.session.get(Person, grid_id), "手机")
    bearer = {"Authorization": f"Bearer {secret}"}
    other = app.test_client()
    Auth(other).login("grid")
    assert other.get("/dispatches/").status_code == 200
    assert app.test_client().get("/api/v1/issues", headers=bearer).status_code == 200
    auth.login("community")
    r = auth.post(f"/admin/people/{grid_id}", {"what": "deactivate"})
    assert r.status_code == 302
    page = client.get(f"/admin/people/{grid_id}").get_data(as_text=True)
    assert "已停用" in page and "恢复账号" in page
    assert page.count("恢复账号") == 1 and "停用" not in page.split("</title>")[0]
    # Logged out at once, the token refused, and no new login.
    assert other.get("/dispatches/").status_code == 302
    assert app.test_client().get("/api/v1/issues", headers=bearer).status_code == 401
    assert Auth(app.test_client()).login("grid", PASSWORD).status_code != 302
    with app.app_context():
        person_row = db.session.get(Person, grid_id)
        assert not person_row.active and {m.role for m in person_row.memberships} == {"grid_worker"}
        assert db.session.scalars(select(AdminLog.action).where(
            AdminLog.object_type == "person", AdminLog.object_id == grid_id)).all() == ["account.deactivate"]
    assert auth.post(f"/admin/people/{grid_id}", {"what": "activate"}).status_code == 302
    again = app.test_client()
    assert Auth(again).login("grid", PASSWORD).status_code == 302
    assert again.get("/dispatches/").status_code == 200
    with app.app_context():
        assert db.session.get(Person, grid_id).active


def test_an_officer_cannot_deactivate_themselves_or_someone_above(world, client, auth, app):
    auth.login("community")
    own = auth.post(f"/admin/people/{world.person_ids['community']}", {"what": "deactivate"})
    assert own.status_code in (403, 404, 422)
    assert auth.post(f"/admin/people/{world.person_ids['street']}", {"what": "deactivate"}).status_code == 404
    auth.logout()
    auth.login("street")
    own = auth.post(f"/admin/people/{world.person_ids['street']}", {"what": "deactivate"})
    assert own.status_code == 422 and "不能停用自己的账号" in own.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Person, world.person_ids["street"]).active
        assert db.session.get(Person, world.person_ids["community"]).active


def test_the_role_form_suggests_the_nodes_of_the_officers_subtree(world, client, auth):
    auth.login("community")
    page = client.get(f"/admin/people/{world.person_ids['grid']}").get_data(as_text=True)
    assert 'list="org-nodes"' in page
    suggested = page.split('<datalist id="org-nodes">')[1].split("</datalist>")[0]
    assert '<option value="C1G1">' in suggested and '<option value="C1">' in suggested
    assert 'value="C2"' not in suggested and 'value="S1"' not in suggested  # outside the subtree
    assert '<datalist id="org-nodes">' in client.get("/admin/people/").get_data(as_text=True)


def test_officer_cannot_reset_someone_above(world, client, auth):
    auth.login("community")
    assert client.get(f"/admin/people/{world.person_ids['street']}").status_code == 404
    assert auth.post(f"/admin/people/{world.person_ids['street']}", {"what": "reset"}).status_code == 404
    assert auth.post(f"/admin/people/{world.person_ids['community2']}", {"what": "reset"}).status_code == 404
    assert client.get(f"/admin/people/{world.person_ids['grid']}").status_code == 200


# --- household claims ----------------------------------------------------------------

def _owner_phone(app, household_id):
    with app.app_context():
        owner = db.session.scalar(select(Person).where(Person.username == "resident"))
        return owner.phone


def test_register_and_claim_with_owner_mobile_is_approved_at_once(world, client, app):
    r = post(client, "/register", {"name": "张小明", "mobile": "13811112222", "password": PASSWORD,
                                   "confirm": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/claim")
    assert "测试1小区" in client.get("/claim").get_data(as_text=True)
    household_id = world.household_ids[0]
    with app.app_context():
        unit_id = db.session.get(Household, household_id).unit_id
    r = client.post(f"/claim?unit={unit_id}", data={"household": household_id, "owner_phone": "138 0000 0001",
                                                     "csrf_token": csrf_token(client, f"/claim?unit={unit_id}")})
    assert r.status_code == 302
    page = client.get("/claim").get_data(as_text=True)
    assert "已通过" in page
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.phone == "13811112222"))
        assert household_id in person.household_ids
        assert [m.role for m in person.memberships] == ["resident"]
    # The new resident sees the household on the home page.
    assert "测试1小区" in client.get("/").get_data(as_text=True)
    # The same mobile cannot register twice.
    fresh = app.test_client()
    again = post(fresh, "/register", {"name": "冒名", "mobile": "13811112222", "password": PASSWORD,
                                      "confirm": PASSWORD})
    assert again.status_code == 422


def test_claim_without_matching_mobile_waits_for_the_grid_worker(world, client, app):
    post(client, "/register", {"name": "赵租户", "mobile": "13833334444", "password": PASSWORD, "confirm": PASSWORD})
    household_id = world.household_ids[1]
    r = client.post("/claim", data={"household": household_id, "owner_phone": "13999999999",
                                    "csrf_token": csrf_token(client, "/claim")})
    assert r.status_code == 302
    assert "等待网格员" in client.get("/claim").get_data(as_text=True)
    with app.app_context():
        claim_id = db.session.scalar(select(HouseholdClaim.id))
        assert db.session.get(HouseholdClaim, claim_id).status == "pending"

    other_grid = app.test_client()
    Auth(other_grid).login("grid2")  # the other community's grid: not theirs
    assert claim_id and "赵租户" not in other_grid.get("/admin/claims/").get_data(as_text=True)
    assert Auth(other_grid).post("/admin/claims/", {"claim": claim_id, "decision": "approve"}).status_code == 404

    grid = app.test_client()
    grid_auth = Auth(grid)
    grid_auth.login("grid")
    assert "赵租户" in grid.get("/admin/claims/").get_data(as_text=True)
    no_reason = grid_auth.post("/admin/claims/", {"claim": claim_id, "decision": "reject", "reason": ""})
    assert no_reason.status_code == 422
    assert grid_auth.post("/admin/claims/", {"claim": claim_id, "decision": "reject",
                                             "reason": "业主称不认识此人"}).status_code == 302
    page = client.get("/claim").get_data(as_text=True)
    assert "未通过" in page and "业主称不认识此人" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HouseholdPerson).where(
            HouseholdPerson.household_id == household_id, HouseholdPerson.relation == "resident")) == 0

    # A second claim, approved by the grid worker.
    client.post("/claim", data={"household": household_id, "owner_phone": "13999999999",
                                "csrf_token": csrf_token(client, "/claim")})
    with app.app_context():
        claim_id = db.session.scalar(select(func.max(HouseholdClaim.id)))
    assert grid_auth.post("/admin/claims/", {"claim": claim_id, "decision": "approve"}).status_code == 302
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.phone == "13833334444"))
        assert household_id in person.household_ids
    assert grid_auth.post("/admin/claims/", {"claim": claim_id, "decision": "approve"}).status_code == 422


def test_english_interface(world, client, auth):
    auth.login("admin")
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client)})
    page = client.get("/admin/").get_data(as_text=True)
    assert "System administration" in page and "Accounts" in page


def test_claims_and_registrations_are_throttled(world, app):
    client = app.test_client()
    post(client, "/register", {"name": "多次", "mobile": "13855556666", "password": PASSWORD, "confirm": PASSWORD})
    statuses = []
    for household_id in world.household_ids[1:5]:
        statuses.append(client.post("/claim", data={"household": household_id, "owner_phone": "13999999999",
                                                    "csrf_token": csrf_token(client, "/claim")}).status_code)
    assert statuses == [302, 302, 302, 429]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HouseholdClaim)) == 3
    codes = []
    for n in range(11):
        fresh = app.test_client()
        codes.append(post(fresh, "/register", {"name": "批量", "mobile": f"137000000{n:02d}", "password": PASSWORD,
                                               "confirm": PASSWORD}).status_code)
    assert codes[:9] == [302] * 9 and codes[-1] == 429


def test_a_refused_account_leaves_nothing_behind(world, client, auth, app):
    auth.login("admin")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Person))
    # The mobile is the resident's already: nothing is written, not even the log line.
    r = auth.post("/admin/people/", {"name": "重复手机", "username": "dup", "phone": "13800000001",
                                     "org": "C1", "role": "community_officer"})
    assert r.status_code == 422 and "该手机号已注册" in r.get_data(as_text=True)
    r = auth.post("/admin/people/", {"name": "无组织", "username": "noorg", "org": "NOPE", "role": "grid_worker"})
    assert r.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person)) == before
        assert db.session.scalar(select(func.count()).select_from(AdminLog)) == 0


def test_navigation_entries(world, client, auth):
    auth.login("community")
    assert "系统管理" in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("grid")
    page = client.get("/").get_data(as_text=True)
    assert "系统管理" not in page and "房屋认领" in page
    auth.logout()
    auth.login("resident")
    page = client.get("/").get_data(as_text=True)
    assert "系统管理" not in page and "我的房屋" in page


def test_an_owner_in_the_roster_gets_an_account_by_a_password_reset(world, client, auth, app):
    with app.app_context():
        from core.db import write_transaction
        from orgs import services as S
        with write_transaction():
            owner = S.add_person("钱业主", phone="13866667777")
            S.link_household(owner, db.session.get(Household, world.household_ids[2]), "owner")
        owner_id = owner.id
    # The owner cannot register: the mobile is in the roster already.
    refused = post(app.test_client(), "/register", {"name": "钱业主", "mobile": "13866667777", "password": PASSWORD,
                                                    "confirm": PASSWORD})
    assert refused.status_code == 422 and "该手机号已在名册中" in refused.get_data(as_text=True)
    auth.login("community2")  # the other community: not theirs
    assert client.get(f"/admin/people/{owner_id}").status_code == 404
    auth.logout()
    auth.login("community")
    assert "钱业主" in client.get("/admin/people/?q=钱").get_data(as_text=True)
    assert "测试1小区" in client.get(f"/admin/people/{owner_id}").get_data(as_text=True)
    r = auth.post(f"/admin/people/{owner_id}", {"what": "reset"})
    import re
    temp = re.search(r'id="temp-password" type="text" readonly value="([^"]+)"', r.get_data(as_text=True)).group(1)
    owner_client = app.test_client()
    assert Auth(owner_client).login("13866667777", temp).status_code == 302
    assert owner_client.get("/").headers["Location"].endswith("/password")


def test_a_duplicate_written_by_another_request_answers_409(world, client, auth, app, monkeypatch):
    """The account name check passes, then the insert meets the unique constraint (as when
    another request committed the same name between the check and the insert)."""
    auth.login("admin")
    monkeypatch.setattr(services, "_username", lambda value: value)
    r = auth.post("/admin/people/", {"name": "重名", "username": "grid", "org": "C1G1", "role": "grid_worker"})
    assert r.status_code == 409 and "同一时间" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person).where(Person.name == "重名")) == 0
