"""Finding an issue as people remember it (issue 15 item 8): by its number, words of its
title or description, the spot, the estate's name or address, the building, the community."""
from __future__ import annotations

import re

from tests.issues.helpers import raise_demand


def _found(client, query: str) -> list[int]:
    page = client.get("/issues/", query_string={"queue": "all", "q": query}).get_data(as_text=True)
    return sorted(int(n) for n in re.findall(r'class="issue-title" href="/issues/(\d+)"', page))


def test_search_by_number_words_place_and_community(app, client, auth, world):
    with app.app_context():
        lights = raise_demand(world, title="楼道灯不亮", description="三楼声控灯坏了")
        roof = raise_demand(world, username="grid", household_index=9, title="屋顶漏水", description="顶楼卧室渗水",
                            subcategory="roof")
        other = raise_demand(world, username="grid2", household_index=20, title="楼道灯不亮", description="另一个社区")
    auth.login("street")
    assert _found(client, f"#{roof}") == [roof] and _found(client, str(lights)) == [lights]
    assert _found(client, "声控") == [lights]
    assert _found(client, "楼道灯") == sorted([lights, other])
    assert _found(client, "楼道灯 第1社区") == [lights]  # the community's name narrows it
    assert _found(client, "测试2小区") == [other]  # the estate's name
    assert _found(client, "2号楼 漏水") == [roof]  # the building's number
    assert _found(client, "99999999999999") == [] and _found(client, "%") == []
    auth.logout()
    auth.login("grid")  # only what the grid may see
    assert _found(client, "楼道灯") == [lights]
