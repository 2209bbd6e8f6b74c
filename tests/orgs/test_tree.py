"""The org tree browser and jurisdiction: outside objects answer 404."""
from core.extensions import db
from orgs.models import Building, Household


def test_tree_drill_down_from_street_to_household(client, auth, world):
    auth.login("street")
    page = client.get(f"/orgs/{world.node_ids['S1']}").get_data(as_text=True)
    assert "第1社区党委" in page and "第2社区党委" in page
    page = client.get(f"/orgs/{world.node_ids['C1']}").get_data(as_text=True)
    assert "测试1小区" in page
    page = client.get(f"/estates/{world.estate_ids[0]}").get_data(as_text=True)
    assert "1号楼" in page and "2号楼" in page
    household_id = world.household_ids[0]
    response = client.get(f"/households/{household_id}")
    assert response.status_code == 200
    assert "81.50" in response.get_data(as_text=True)


def test_community_officer_cannot_see_the_other_community(client, auth, world):
    auth.login("community")
    assert client.get(f"/orgs/{world.node_ids['C1']}").status_code == 200
    assert client.get(f"/orgs/{world.node_ids['C2']}").status_code == 404
    assert client.get(f"/estates/{world.estate_ids[1]}").status_code == 404
    assert client.get(f"/households/{world.household_ids[-1]}").status_code == 404


def test_unknown_ids_answer_404_like_foreign_ones(client, auth, world):
    auth.login("community")
    assert client.get("/orgs/999999").status_code == 404
    assert client.get("/households/999999").status_code == 404


def test_resident_sees_own_household_only(client, auth, world, app):
    auth.login("resident")
    assert client.get(f"/households/{world.household_ids[0]}").status_code == 200
    assert client.get(f"/households/{world.household_ids[1]}").status_code == 404
    assert client.get(f"/orgs/{world.node_ids['C1']}").status_code == 404


def test_member_household_sees_its_neighbour_households(client, auth, world):
    auth.login("member")
    assert client.get(f"/households/{world.household_ids[1]}").status_code == 200
    assert client.get(f"/households/{world.household_ids[10]}").status_code == 404


def test_counts_on_org_page(client, auth, world, app):
    auth.login("street")
    page = client.get(f"/orgs/{world.node_ids['S1']}").get_data(as_text=True)
    with app.app_context():
        total = db.session.query(Household).count()
        assert db.session.query(Building).count() == 4
    assert total == 32
    assert "<b>32</b>" in page


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(f"/orgs/{world.node_ids['S1']}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
