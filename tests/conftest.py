"""Fixtures: a fresh, migrated database per test on SQLite or PostgreSQL.

The backend is chosen by WUJI_TEST_BACKEND=sqlite|postgresql (default sqlite).
The schema is only ever created by the Alembic migrations: once per test session
into a template (an SQLite file copied per test; on PostgreSQL, tables emptied
per test except the reference tables the migrations seed).
"""
from __future__ import annotations

import os
import re
import shutil
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app import create_app
from core.db import write_transaction
from core.extensions import db

BACKEND = os.environ.get("WUJI_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Tables whose rows the migrations themselves insert: never emptied between tests.
REFERENCE_TABLES = {"alembic_version", "org_level"}
PASSWORD = "correct-horse-battery"

BASE_CONFIG = {
    "TESTING": True,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashing in tests only
    "SERVER_NAME": None,
}


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def scratch_postgres(suffix: str) -> str:
    """A fresh database next to TEST_DATABASE_URL's, private to this test process, so
    that concurrent test runs on one server never share tables."""
    url = sa.engine.make_url(PG_URL)
    scratch = url.set(database=f"{url.database}_{suffix}_{os.getpid()}")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{scratch.database}"')
    admin.dispose()
    return scratch.render_as_string(hide_password=False)


def drop_postgres(url: str) -> None:
    target = sa.engine.make_url(url)
    admin = sa.create_engine(sa.engine.make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    if BACKEND == "postgresql":
        url = scratch_postgres("run")
        _migrate(url)
        yield url
        drop_postgres(url)
        return
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    _migrate(f"sqlite:///{path}")
    yield str(path)


def _empty_postgres(app) -> None:
    """DELETE is much faster than TRUNCATE for the few rows a test writes; foreign key
    triggers are switched off for this session only (the tables are emptied whole)."""
    tables = [t.name for t in db.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    with db.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in tables:
            conn.exec_driver_sql(f'DELETE FROM "{table}"')


@pytest.fixture
def database_url(database_template, tmp_path):
    if BACKEND == "postgresql":
        return database_template
    target = tmp_path / "test.sqlite"
    shutil.copyfile(database_template, target)
    return f"sqlite:///{target}"


# Tests need no durability: skip waiting for the WAL flush on every commit.
PG_ENGINE_OPTIONS = {"pool_pre_ping": True, "connect_args": {"options": "-c synchronous_commit=off"}}


@pytest.fixture
def app(database_url, tmp_path):
    config = {**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "STORAGE_DIR": str(tmp_path / "storage")}
    if BACKEND == "postgresql":
        config["SQLALCHEMY_ENGINE_OPTIONS"] = PG_ENGINE_OPTIONS
    app = create_app(config)
    with app.app_context():
        if BACKEND == "postgresql":
            _empty_postgres(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(client, path: str = "/") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, "page carries no CSRF token"
    return match.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD):
        token = csrf_token(self.client, "/login")
        return self.client.post(
            "/login", data={"login": username, "password": password, "csrf_token": token}
        )

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client)})

    def post(self, path: str, data: dict | None = None, **kwargs):
        """POST a form with the CSRF token a browser would send."""
        payload = dict(data or {})
        payload.setdefault("csrf_token", csrf_token(self.client))
        return self.client.post(path, data=payload, **kwargs)


@pytest.fixture
def auth(client):
    return Auth(client)


class World:
    """A compact five-level tree with places and one account per role.

    street S1 > community C1 (estate E1) and C2 (estate E2) > grids > building
    groups > member households; each estate has 2 buildings x 2 units x 4 households.
    """

    def __init__(self):
        from orgs import roles as R
        from orgs import services as S
        from orgs.models import LiaisonHousehold

        self.nodes = {}
        self.people = {}
        self.households = []
        street = self.nodes["S1"] = S.add_org_node(None, "street_committee", "S1", "测试街道党工委")
        for c in (1, 2):
            community = self.nodes[f"C{c}"] = S.add_org_node(street, "community_committee", f"C{c}", f"第{c}社区党委")
            grid = self.nodes[f"C{c}G1"] = S.add_org_node(community, "grid_branch", f"C{c}G1", f"第{c}社区第1网格")
            group = self.nodes[f"C{c}G1B1"] = S.add_org_node(grid, "building_group", f"C{c}G1B1", f"第{c}社区楼院党小组")
            member = self.nodes[f"C{c}G1B1M1"] = S.add_org_node(group, "member_household", f"C{c}G1B1M1", f"第{c}社区党员中心户")
            estate = S.add_estate(community, f"E{c}", f"测试{c}小区", "测试路1号")
            setattr(self, f"estate{c}", estate)
            for b in (1, 2):
                building = S.add_building(estate, f"{b}号楼", org=group, sort_key=b)
                for u in (1, 2):
                    unit = S.add_unit(building, f"{u}单元", sort_key=u)
                    for r in (1, 2, 3, 4):
                        self.households.append(S.add_household(unit, f"{r}01", Decimal("80.50") + r, adult_count=2))
            db.session.flush()
            for household in self.households[-16:][1:6]:
                db.session.add(LiaisonHousehold(org_id=member.id, household_id=household.id))
        accounts = {
            "admin": (R.ADMIN, "S1"),
            "street": (R.STREET_OFFICER, "S1"),
            "community": (R.COMMUNITY_OFFICER, "C1"),
            "community2": (R.COMMUNITY_OFFICER, "C2"),
            "grid": (R.GRID_WORKER, "C1G1"),
            "grid2": (R.GRID_WORKER, "C2G1"),
            "group": (R.BUILDING_GROUP_LEADER, "C1G1B1"),
            "member": (R.MEMBER_HOUSEHOLD, "C1G1B1M1"),
            "owners": (R.OWNERS_COMMITTEE, "C1"),
            "property": (R.PROPERTY_COMPANY, "C1"),
            "builder": (R.CONSTRUCTION_COMPANY, "C1"),
            "supervisor": (R.SUPERVISION_COMPANY, "C1"),
        }
        for username, (role, code) in accounts.items():
            person = S.add_person(f"{username}用户", username=username, password=PASSWORD)
            S.grant_role(person, self.nodes[code], role)
            self.people[username] = person
        resident = S.add_person("居民甲", username="resident", phone="13800000001", password=PASSWORD)
        S.link_household(resident, self.households[0], "owner")
        S.grant_role(resident, self.nodes["C1G1B1"], R.RESIDENT)
        self.people["resident"] = resident
        db.session.flush()
        # Plain ids survive the end of the app context; tests load rows again by id.
        self.person_ids = {name: person.id for name, person in self.people.items()}
        self.node_ids = {code: node.id for code, node in self.nodes.items()}
        self.household_ids = [household.id for household in self.households]
        self.estate_ids = [self.estate1.id, self.estate2.id]


@pytest.fixture
def world(app):
    """Build the compact world, then leave the app context so that every request
    and every assertion reads the database afresh."""
    with app.app_context():
        with write_transaction():
            built = World()
    return built
