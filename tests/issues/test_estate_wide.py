"""Issues, votes and notices about a whole estate reach the grids and building groups
that hold part of it (issue 15 item 3), and no one else."""
from __future__ import annotations

from core.db import write_transaction
from core.extensions import db
from orgs import roles as R
from orgs import services as S
from orgs.models import OrgNode
from tests.conftest import PASSWORD
from tests.procedures import vote_helpers as V


def _estate_wide_item(world) -> int:
    """The community launches an item about the whole of estate E1 and puts it to the vote."""
    launched = V.services.launch_task(
        V.person("community"), title="小区外墙保温改造", description="1-2号楼外墙保温", category="basic",
        subcategory="walls", place_kind="estate", place_id=world.estate_ids[0])
    V.fire("community", launched.id, "start_consultation")
    return launched.id


def _empty_grid() -> None:
    """A second grid of community C1 holding no building of estate E1."""
    with write_transaction():
        community = db.session.scalar(db.select(OrgNode).where(OrgNode.code == "C1"))
        grid = S.add_org_node(community, "grid_branch", "C1G2", "第1社区第2网格")
        person = S.add_person("第2网格员", username="grid_other", password=PASSWORD)
        S.grant_role(person, grid, R.GRID_WORKER)


def test_grid_and_group_see_and_list_an_estate_wide_issue(app, client, auth, world):
    with app.app_context():
        item = _estate_wide_item(world)
        _empty_grid()
    for username in ("grid", "group"):
        auth.login(username)
        page = client.get(f"/issues/{item}")
        assert page.status_code == 200, username
        assert "小区外墙保温改造" in page.get_data(as_text=True)
        listing = client.get("/issues/?queue=all").get_data(as_text=True)
        assert f"/issues/{item}" in listing, username
        api = client.get(f"/api/v1/issues/{item}")
        assert api.status_code == 200
        auth.logout()
    for username in ("grid2", "grid_other"):
        auth.login(username)
        assert client.get(f"/issues/{item}").status_code == 404, username
        assert f"/issues/{item}" not in client.get("/issues/?queue=all").get_data(as_text=True)
        assert client.get(f"/api/v1/issues/{item}").status_code == 404
        auth.logout()


def test_home_counts_the_estate_a_grid_holds_part_of(client, auth, world):
    auth.login("grid")
    assert "小区 1 个" in client.get("/").get_data(as_text=True)


def test_the_estate_wide_issue_does_not_open_the_estate_roster_to_a_grid(app, client, auth, world):
    with app.app_context():
        _estate_wide_item(world)
    auth.login("grid")
    export = client.get(f"/estates/{world.estate_ids[0]}/roster.xlsx")
    assert export.status_code == 404
    assert not export.data.startswith(b"PK")


def test_grid_lists_the_votes_and_notices_of_its_estate(app, client, auth, world):
    with app.app_context():
        item = _estate_wide_item(world)
        vote_id = V.open_issue_vote(item)
        _empty_grid()
    auth.login("grid")
    listing = client.get("/votes/").get_data(as_text=True)
    assert f"/votes/{vote_id}" in listing
    assert client.get(f"/votes/{vote_id}").status_code == 200
    auth.logout()
    for username in ("grid2", "grid_other"):
        auth.login(username)
        assert f"/votes/{vote_id}" not in client.get("/votes/").get_data(as_text=True), username
        # Nor read one by one: another estate's vote in the same community is not theirs.
        assert client.get(f"/votes/{vote_id}").status_code == 404, username
        assert client.get(f"/api/v1/votes/{vote_id}").status_code == 404, username
        auth.logout()
