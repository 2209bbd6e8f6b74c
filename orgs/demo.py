"""Demo data: a believable sub-district modelled on Fushan Road (浮山路街道), Licang, Qingdao.

Deterministic (seeded) and idempotent: loading twice changes nothing.
"""
from __future__ import annotations

import random
from decimal import Decimal

from flask import Flask, current_app
from sqlalchemy import select

from core.db import write_transaction
from core.extensions import db
from orgs import roles as R
from orgs import services
from orgs.models import LiaisonHousehold, OrgNode

DEMO_PASSWORD = "wuji-demo-2026"
STREET_CODE = "FSL"

COMMUNITIES = [
    ("FSL-C1", "翠湖社区党委", [("FSL-E1", "翠湖小区", "浮山路街道翠湖路12号", 6)]),
    ("FSL-C2", "东兴社区党委", [("FSL-E2", "东兴花园", "浮山路街道东兴路88号", 4)]),
    ("FSL-C3", "浮山后社区党委", []),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "建国秀英桂兰志强海燕国华丽华玉兰文明春梅德胜淑珍金凤永红晓东立新红梅振华"

# (username, display name, role, org code) - one account for every role.
ACCOUNTS = [
    ("admin", "系统管理员", R.ADMIN, STREET_CODE),
    ("street", "孙主任（街道）", R.STREET_OFFICER, STREET_CODE),
    ("community", "李书记（翠湖社区）", R.COMMUNITY_OFFICER, "FSL-C1"),
    ("grid", "王网格员", R.GRID_WORKER, "FSL-C1-G1"),
    ("group", "赵组长（楼院党小组）", R.BUILDING_GROUP_LEADER, "FSL-C1-G1-B1"),
    ("member", "周大姐（党员中心户）", R.MEMBER_HOUSEHOLD, "FSL-C1-G1-B1-M1"),
    ("owners", "陈主任（业委会）", R.OWNERS_COMMITTEE, "FSL-C1"),
    ("property", "安居物业", R.PROPERTY_COMPANY, "FSL-C1"),
    ("builder", "城建施工", R.CONSTRUCTION_COMPANY, "FSL-C1"),
    ("supervisor", "诚信监理", R.SUPERVISION_COMPANY, "FSL-C1"),
]
RESIDENT_USERNAME = "resident"



def add_loader(app: Flask, fn) -> None:
    """A package adds its demo data after the org tree, in the order packages are set up."""
    loaders = app.extensions.setdefault("wuji_demo_loaders", [])
    if fn not in loaders:
        loaders.append(fn)


def _name(rng: random.Random) -> str:
    start = rng.randrange(0, len(GIVEN) // 2) * 2
    return rng.choice(SURNAMES) + GIVEN[start:start + 2]


def _estate(rng, community: OrgNode, grids: list[OrgNode], code: str, name: str, address: str, n_buildings: int):
    """Buildings spread over the grids' building groups; 2-3 units; 6 floors x 2 rooms."""
    estate = services.add_estate(community, code, name, address)
    groups = [g for grid in grids for g in grid.children]
    households = []
    for b in range(1, n_buildings + 1):
        group = groups[(b - 1) % len(groups)]
        building = services.add_building(estate, f"{b}号楼", org=group, sort_key=b)
        for u in range(1, 2 + (b % 2) + 1):
            unit = services.add_unit(building, f"{u}单元", sort_key=u)
            for floor in range(1, 7):
                for room in (1, 2):
                    area = Decimal(rng.randrange(5800, 11200)) / 100
                    household = services.add_household(
                        unit, f"{floor}0{room}", area, adult_count=rng.randint(1, 4), sort_key=floor * 10 + room
                    )
                    households.append(household)
    return estate, households


def load_org_tree() -> bool:
    """Create the sub-district; returns False when it already exists."""
    if db.session.scalar(select(OrgNode).where(OrgNode.code == STREET_CODE)) is not None:
        return False
    rng = random.Random(20261121)
    street = services.add_org_node(None, "street_committee", STREET_CODE, "浮山路街道党工委")
    all_households = []
    member_nodes = []
    for c_code, c_name, estates in COMMUNITIES:
        community = services.add_org_node(street, "community_committee", c_code, c_name)
        grids = []
        for g in (1, 2):
            grid = services.add_org_node(community, "grid_branch", f"{c_code}-G{g}", f"{c_name[:-2]}第{g}网格党支部")
            grids.append(grid)
            for b in (1, 2):
                group = services.add_org_node(
                    grid, "building_group", f"{c_code}-G{g}-B{b}", f"{c_name[:-2]}第{g}网格第{b}楼院党小组"
                )
                for m in (1, 2):
                    member_nodes.append(
                        services.add_org_node(
                            group, "member_household", f"{c_code}-G{g}-B{b}-M{m}", f"党员中心户{_name(rng)}家"
                        )
                    )
        for e_code, e_name, address, n_buildings in estates:
            _, households = _estate(rng, community, grids, e_code, e_name, address, n_buildings)
            all_households.extend(households)
    db.session.flush()
    _owners(rng, all_households)
    _liaisons(member_nodes, all_households)
    _accounts(all_households)
    return True


def _owners(rng: random.Random, households) -> None:
    """Most households one owner; some co-owned; a few owners with two units; some unsold."""
    previous = None
    for index, household in enumerate(households):
        if index % 41 == 7:
            household.unsold = True
            continue
        if previous is not None and index % 29 == 3:
            services.link_household(previous, household, "owner")  # owns a second unit
            continue
        owner = services.add_person(_name(rng))
        services.link_household(owner, household, "owner")
        services.link_household(owner, household, "resident")
        if index % 13 == 5:
            services.link_household(services.add_person(_name(rng)), household, "owner")
        previous = owner


def _liaisons(member_nodes: list[OrgNode], households) -> None:
    """Each member household node is itself a household and looks after ~12 neighbours
    in the buildings of its building group."""
    by_group: dict[str, list] = {}
    for household in households:
        by_group.setdefault(household.path, []).append(household)
    for node in member_nodes:
        pool = by_group.get(node.parent.path, [])
        if not pool:
            continue
        index = int(node.code.rsplit("M", 1)[1]) - 1
        chunk = pool[index * 13: index * 13 + 13]
        if not chunk:
            continue
        node.household_id = chunk[0].id
        for neighbour in chunk[1:]:
            db.session.add(LiaisonHousehold(org_id=node.id, household_id=neighbour.id))


def _accounts(households) -> None:
    for username, name, role, org_code in ACCOUNTS:
        person = services.add_person(name, username=username, password=DEMO_PASSWORD)
        services.grant_role(person, services.get_org(org_code), role)
    group = services.get_org("FSL-C1-G1-B1")
    own = next(h for h in households if h.path == group.path and not h.unsold)
    resident = services.add_person("刘阿姨（居民）", username=RESIDENT_USERNAME, password=DEMO_PASSWORD)
    services.link_household(resident, own, "owner")
    services.link_household(resident, own, "resident")
    services.grant_role(resident, group, R.RESIDENT)


def load() -> list[str]:
    """Load everything once; returns what was loaded."""
    done = []
    with write_transaction():
        if load_org_tree():
            done.append("org tree")
    for loader in current_app.extensions.get("wuji_demo_loaders", []):
        with write_transaction():
            label = loader()
            if label:
                done.append(label)
    return done


def accounts() -> list[tuple[str, str, str]]:
    rows = [(u, n, R.role_label(r)) for u, n, r, _ in ACCOUNTS]
    rows.append((RESIDENT_USERNAME, "刘阿姨（居民）", R.role_label(R.RESIDENT)))
    return rows
