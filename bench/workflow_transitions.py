"""Benchmark workflow transitions and the worklist (prints figures; not a test).

(a) In-process: fire() against the bare SQLAlchemy statements it has to run (lock
    and load the row as the mapped object its conditions and callbacks receive,
    update it, insert the audit entry, commit; each statement built once), interleaved
    in the same run, on SQLite and on PostgreSQL. Target: fire >= 75 % of bare (median
    over the rounds of the ratio within each round).
    escalate/return_down tells the staff of the node reached (one notification event
    rides with the transition, notify/), which the bare statements do not write; it is
    also run with the observers off ("engine only"): the notifications' own cost is
    bench/notify_transitions.py's target.
    Also printed: the same with the row read as a plain tuple (all Core) and as
    ORM code through the unit of work. Only the operation is timed. Every step
    starts the way a request does, untimed: a new session with the acting person
    loaded, as Flask-Login's user loader does. The target's baseline runs its
    statements after the same request set-up; the same statements run back to back
    with no request around them (warm, as in sessions 1-2) are printed for context.
(b) HTTP: POST /api/v1/issues/<id>/transitions under gunicorn (2 sync workers,
    SQLite file) from 16 concurrent clients on 127.0.0.1, each working its own
    issue with bearer tokens: first report_progress, then escalate/return_down
    (grid worker and community officer in turn). Target, each: >= 800
    transitions/s, p99 <= 30 ms.
(c) Worklist: 1,000,000 generated issues over ~10,000 org nodes, server time of
    issues.services.list_issues(queue="mine") for a grid worker and for a
    community officer, on SQLite and PostgreSQL. Target: <= 30 ms.

Run:  .venv/bin/python bench/workflow_transitions.py [--parts abc] [--issues 1000000]
          [--pg postgresql+psycopg://postgres@127.0.0.1:5432/wuji_bench] [--no-pg]
The PostgreSQL database named in --pg is dropped and recreated (never point it at
real data); SQLite files go to --workdir (default: a temporary directory).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
# This file's own directory would shadow the `transitions` package (pytransitions).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402

from app import create_app  # noqa: E402
from core.db import is_sqlite, utcnow, write_transaction  # noqa: E402
from core.extensions import db  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/wuji_bench"
FIRE_TARGET = 0.75
HTTP_TARGET_RATE, HTTP_TARGET_P99_MS = 800.0, 30.0
WORKLIST_TARGET_MS = 30.0
BARE_SUBJECT = "bench_bare"


# --- set-up -----------------------------------------------------------------------------


def make_app(url: str) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "TESTING": False})


def fresh_database(url: str) -> Flask:
    """An empty database at `url` migrated to head (PostgreSQL: recreated)."""
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        _recreate_pg(url)
    app = make_app(url)
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def _recreate_pg(url: str) -> None:
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()


def pg_reachable(url: str) -> bool:
    try:
        engine = sa.create_engine(sa.engine.make_url(url).set(database="postgres"))
        engine.connect().close()
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def timed(label: str) -> Callable:
    def wrap(fn):
        def run(*args, **kwargs):
            start = time.perf_counter()
            result = fn(*args, **kwargs)
            print(f"    {label}: {time.perf_counter() - start:.1f} s", flush=True)
            return result

        return run

    return wrap


# --- the generated world ------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    streets: int
    communities: int  # per street
    grids: int  # per community
    groups: int  # building Party groups per grid
    estates: int  # per community
    buildings: int  # per building group

    def nodes(self) -> int:
        c = self.streets * self.communities
        g = c * self.grids
        return self.streets + c + g + g * self.groups


PROVINCE_SLICE = Shape(streets=4, communities=10, grids=8, groups=30, estates=4, buildings=2)  # 9,964 nodes
SMALL = Shape(streets=1, communities=2, grids=2, groups=2, estates=1, buildings=2)


@dataclass
class Building:
    id: int
    estate_id: int
    path: str
    group_id: int
    grid_id: int
    community_id: int
    street_id: int


@dataclass
class World:
    buildings: list[Building] = field(default_factory=list)
    people: dict[str, int] = field(default_factory=dict)


class _Ids:
    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value += 1
        return self.value


def _node(rows: list[dict], ids: _Ids, parent: dict | None, level: str, now: datetime) -> dict:
    node_id = ids.next()
    path = (parent["path"] if parent else "/") + f"{node_id}/"
    row = {"id": node_id, "parent_id": parent["id"] if parent else None, "level_code": level,
           "code": f"N{node_id}", "name": f"{level} {node_id}", "path": path,
           "depth": path.count("/") - 2, "created_at": now}
    rows.append(row)
    return row


def _tree_rows(shape: Shape, now: datetime) -> tuple[list[dict], list[dict], list[dict], World]:
    nodes, estates, buildings, world = [], [], [], World()
    node_ids, estate_ids, building_ids = _Ids(), _Ids(), _Ids()
    for _s in range(shape.streets):
        street = _node(nodes, node_ids, None, "street_committee", now)
        for _c in range(shape.communities):
            community = _node(nodes, node_ids, street, "community_committee", now)
            own_estates = []
            for _e in range(shape.estates):
                estate_id = estate_ids.next()
                own_estates.append(estate_id)
                estates.append({"id": estate_id, "org_id": community["id"], "code": f"E{estate_id}",
                                "name": f"小区{estate_id}", "address": "", "path": community["path"]})
            for _g in range(shape.grids):
                grid = _node(nodes, node_ids, community, "grid_branch", now)
                for _b in range(shape.groups):
                    group = _node(nodes, node_ids, grid, "building_group", now)
                    estate_id = own_estates[(group["id"]) % len(own_estates)]
                    for number in range(shape.buildings):
                        building_id = building_ids.next()
                        buildings.append({"id": building_id, "estate_id": estate_id, "org_id": group["id"],
                                          "number": f"{building_id}号楼", "sort_key": number, "path": group["path"]})
                        world.buildings.append(Building(building_id, estate_id, group["path"], group["id"],
                                                        grid["id"], community["id"], street["id"]))
    return nodes, estates, buildings, world


def _insert(table: str, rows: list[dict], batch: int = 20_000) -> None:
    target = db.metadata.tables[table]
    for start in range(0, len(rows), batch):
        db.session.execute(sa.insert(target), rows[start:start + batch])


def _advance_sequences(tables: tuple[str, ...]) -> None:
    if is_sqlite():
        return
    for table in tables:
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
        ))


def build_world(shape: Shape) -> World:
    """Org tree, estates, buildings (bulk inserted) and the people who act in the bench."""
    from orgs import roles as R
    from orgs import services as S
    from orgs.models import OrgNode

    nodes, estates, buildings, world = _tree_rows(shape, utcnow())
    with write_transaction():
        _insert("org_node", nodes)
        _insert("estate", estates)
        _insert("building", buildings)
        _advance_sequences(("org_node", "estate", "building"))
    first = world.buildings[0]
    grants = {
        "street": (R.STREET_OFFICER, first.street_id),
        "community": (R.COMMUNITY_OFFICER, first.community_id),
        "grid": (R.GRID_WORKER, first.grid_id),
        "group": (R.BUILDING_GROUP_LEADER, first.group_id),
        "builder": (R.CONSTRUCTION_COMPANY, first.community_id),
        "resident": (R.RESIDENT, first.group_id),
    }
    with write_transaction():
        for username, (role, node_id) in grants.items():
            person = S.add_person(f"bench {username}", username=username)
            S.grant_role(person, db.session.get(OrgNode, node_id), role)
            db.session.flush()
            world.people[username] = person.id
    return world


# --- generated issues ---------------------------------------------------------------------------

# Share of issues per state (a year or so into a province's renovation programme).
STATE_MIX = (
    ("closed", 40.0), ("rejected", 6.0), ("merged", 3.0), ("long_term_management", 8.0), ("resolved", 5.0),
    ("review_building", 8.0), ("review_grid", 6.0), ("review_community", 6.0), ("review_street", 2.0),
    ("planned", 4.0), ("consultation", 2.0), ("voting", 1.5), ("public_notice", 1.5), ("construction", 3.0),
    ("acceptance", 1.5), ("rectification", 1.0), ("negotiation", 0.5), ("mediation", 0.5), ("litigation", 0.5),
)
SUBCATEGORIES = (("basic", "roads"), ("basic", "stairs"), ("basic", "wires"), ("improvement", "elevator"),
                 ("improvement", "ev_charging"), ("improvement", "greening"), ("upgrade", "elderly_care"))


def _responsible(building: Building, level: str | None) -> int | None:
    return {
        "building_group": building.group_id,
        "grid_branch": building.grid_id,
        "community_committee": building.community_id,
        "street_committee": building.street_id,
    }.get(level or "")


def issue_row(issue_id: int, building: Building, state_name: str, raised_by: int, now: datetime,
              rng: random.Random) -> dict:
    from rules.policy import DEFAULT_DEADLINES
    from issues.renovation import WORKFLOW

    state = WORKFLOW.state(state_name)
    entered = now - timedelta(seconds=rng.randint(0, 40 * 86400))
    days = DEFAULT_DEADLINES["renovation_issue"].get(state_name) if state.deadline and not state.terminal else None
    category, subcategory = SUBCATEGORIES[issue_id % len(SUBCATEGORIES)]
    return {
        "id": issue_id, "title": f"诉求 {issue_id}", "description": "", "category": category,
        "subcategory": subcategory, "direction": "demand", "estate_id": building.estate_id,
        "building_id": building.id, "raised_by_id": raised_by, "public_note": "", "progress": 0,
        "open": not state.terminal, "satisfaction_comment": "", "escalations": 0,
        "created_at": entered - timedelta(days=rng.randint(0, 60)), "state": state_name, "version": 1,
        "state_entered_at": entered, "due_at": entered + timedelta(days=days * 7 // 5) if days else None,
        "audit_seq": 0, "audit_hash": None, "path": building.path,
        "responsible_org_id": _responsible(building, state.level) if not state.terminal else None,
    }


def generate_issues(world: World, count: int, seed: int = 7, batch: int = 20_000) -> None:
    rng = random.Random(seed)
    names = [name for name, _w in STATE_MIX]
    weights = [w for _n, w in STATE_MIX]
    now = utcnow()
    raised_by = world.people["resident"]
    for start in range(1, count + 1, batch):
        stop = min(count + 1, start + batch)
        states = rng.choices(names, weights, k=stop - start)
        rows = [issue_row(i, rng.choice(world.buildings), s, raised_by, now, rng)
                for i, s in zip(range(start, stop), states)]
        with write_transaction():
            if is_sqlite():
                _insert("renovation_issue", rows, batch)
            else:
                _copy("renovation_issue", rows)
    with write_transaction():
        _advance_sequences(("renovation_issue",))


def _copy(table: str, rows: list[dict]) -> None:
    """PostgreSQL COPY: ten times faster than batched INSERTs for a million rows."""
    columns = list(rows[0])
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])


def analyse() -> None:
    """Statistics, and on PostgreSQL the visibility map that autovacuum keeps in a live
    database (a freshly loaded table has none, which rules out index-only scans)."""
    if is_sqlite():
        with write_transaction():
            db.session.execute(sa.text("ANALYZE"))
        return
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


# --- (a) in-process fire() against the bare statements ----------------------------------------------


@dataclass
class Loop:
    """One subject driven by a closure; `version` is tracked without reading the row."""

    issue_id: int
    version: int = 0
    step: int = 0


def _place_issue(world: World, state: str, index: int) -> int:
    """An issue inserted directly in `state` (its audit chain starts with the first fire)."""
    from issues.models import RenovationIssue

    building = world.buildings[0]
    with write_transaction():
        row = issue_row(0, building, state, world.people["resident"], utcnow(), random.Random(index))
        row.pop("id")
        result = db.session.execute(sa.insert(RenovationIssue.__table__).returning(RenovationIssue.__table__.c.id),
                                    [row])
        return result.scalar_one()


# A progress report never goes backwards and says what was done (issues/renovation.py):
# the loops count up to 100 and then report 100 again, each with a note.
PROGRESS_NOTE = "外墙保温施工中"


def _progress(step: int) -> int:
    return min(100, step)


def fire_progress_loop(world: World) -> Callable[[int, Clock], None]:
    """The construction company reports progress (construction → construction)."""
    from orgs.models import Person
    from workflow.engine import fire
    from issues.models import RenovationIssue

    loop = Loop(_place_issue(world, "construction", 1), version=1)

    def run(n: int, clock: Clock) -> None:
        for _ in range(n):
            loop.step += 1
            builder = _request_user(world.people["builder"])
            with clock:
                fire(RenovationIssue, loop.issue_id, "report_progress", builder, loop.version,
                     progress=str(_progress(loop.step)), reason=PROGRESS_NOTE)
            loop.version += 1

    return run


def fire_review_loop(world: World, observers: bool = True) -> Callable[[int, Clock], None]:
    """Grid worker sends up, community officer sends back down (the responsible org and
    the deadline change each time). Each step tells the staff of the node reached and
    the resident (notify/: one notification event rides with the transition); with
    `observers` off, the engine alone (its own issue)."""
    from flask import current_app

    from orgs.models import Person
    from workflow.engine import fire
    from issues.models import RenovationIssue

    loop = Loop(_place_issue(world, "review_grid", 3 if not observers else 2), version=1)

    def run(n: int, clock: Clock) -> None:
        registered = current_app.extensions["wuji_observers"]
        kept = list(registered)
        if not observers:
            registered.clear()
        try:
            _steps(n, clock)
        finally:
            registered[:] = kept

    def _steps(n: int, clock: Clock) -> None:
        for _ in range(n):
            # Two people take turns: each step's actor is loaded first, as the request's
            # user loader would have done before the view calls fire() (not timed).
            actor = _request_user(world.people["grid" if loop.step % 2 == 0 else "community"])
            with clock:
                if loop.step % 2 == 0:
                    fire(RenovationIssue, loop.issue_id, "escalate", actor, loop.version)
                else:
                    fire(RenovationIssue, loop.issue_id, "return_down", actor, loop.version, reason="请网格核实")
            loop.step += 1
            loop.version += 1

    return run


def _request_user(person_id: int):
    """A new request's session holding the person as Flask-Login has loaded them:
    row, memberships and their org nodes."""
    from orgs.models import Person

    db.session.remove()  # each request has a session of its own (Flask-SQLAlchemy's teardown)
    actor = db.session.get(Person, person_id)
    _ = actor.active, [m.org.path for m in actor.memberships]
    # The request's reads end before its write transaction starts (write_transaction()
    # would end them itself, keeping the actor): part of the request, not of fire().
    session = db.session()
    session.expire_on_commit = False
    session.commit()
    session.expire_on_commit = True
    return actor


def bare_loop(world: World, orm_read: bool = False, level_change: bool = False,
              request: bool = False) -> Callable[[int, Clock], None]:
    """What fire() must do at least: lock and read the row, update it, insert the audit
    entry, commit - each statement built once with bound parameters (SQLAlchemy then
    reuses its compiled form), in the same kind of transaction.

    `orm_read=False`: the row is read as a plain tuple (SQLAlchemy Core throughout).
    `orm_read=True`: the row is loaded as the mapped object, as core.db.lock() does -
    fire() must hand that object to the transition's conditions and callbacks; the
    update and the insert stay plain Core statements.
    `level_change=True`: the row moves between two states answered for by two org
    nodes, as escalate/return_down do (the indexes on state and on the org
    responsible change with it); otherwise it stays in its state, as report_progress.
    `request=True`: each step starts as the fire() loops' steps do, with the request's
    session and acting person loaded first (not timed; the same people as there).
    Otherwise the statements run back to back with nothing in between."""
    from workflow.audit import AuditEntry
    from issues.models import RenovationIssue

    issues, entries = RenovationIssue.__table__, AuditEntry.__table__
    loop = Loop(_place_issue(world, "review_grid" if level_change else "construction", 5 if orm_read else 3),
                version=1)
    first = world.buildings[0]
    places = (("review_grid", first.grid_id), ("review_community", first.community_id))
    builder = world.people["builder"]
    if orm_read:
        read = sa.select(RenovationIssue).where(RenovationIssue.id == sa.bindparam("issue_id")).execution_options(
            populate_existing=True)
    else:
        read = sa.select(issues.c.state, issues.c.version, issues.c.audit_seq, issues.c.audit_hash).where(
            issues.c.id == sa.bindparam("issue_id"))
    if not is_sqlite():
        read = read.with_for_update()
    # The columns a transition between states stamps (state, entry time, deadline, org
    # responsible, version, chain head); one that stays in its state (report_progress)
    # writes the version, its figure and the chain head only.
    if level_change:
        update = sa.update(issues).where(issues.c.id == sa.bindparam("issue_id")).values(
            state=sa.bindparam("state"), state_entered_at=sa.bindparam("now"), due_at=sa.bindparam("due"),
            responsible_org_id=sa.bindparam("org_id"), version=sa.bindparam("version"),
            audit_seq=sa.bindparam("seq"), audit_hash=sa.bindparam("hash"))
    else:
        update = sa.update(issues).where(issues.c.id == sa.bindparam("issue_id")).values(
            version=sa.bindparam("version"), progress=sa.bindparam("progress"), audit_seq=sa.bindparam("seq"),
            audit_hash=sa.bindparam("hash"))
    insert = sa.insert(entries)

    def run(n: int, clock: Clock) -> None:
        for _ in range(n):
            loop.step += 1
            if request:  # the actor of fire()'s matching step, loaded as there (not timed)
                _request_user(world.people[("grid", "community")[loop.step % 2]] if level_change else builder)
            else:
                db.session.remove()  # a new session, nothing else (not timed)
            with clock, write_transaction():
                if orm_read:
                    row = db.session.scalars(read, {"issue_id": loop.issue_id}).one()
                else:
                    row = db.session.execute(read, {"issue_id": loop.issue_id}).one()
                now = utcnow()
                written = {"issue_id": loop.issue_id, "version": row.version + 1, "seq": row.audit_seq + 1,
                           "hash": "f" * 64}
                if level_change:
                    state, org_id = places[loop.step % 2]
                    written.update(state=state, now=now, due=now + timedelta(days=14), org_id=org_id)
                else:
                    state = row.state
                    written.update(progress=_progress(loop.step))
                db.session.execute(update, written)
                db.session.execute(insert, {
                    "subject_type": BARE_SUBJECT, "subject_id": loop.issue_id, "seq": row.audit_seq + 1,
                    "actor_id": builder, "actor_name": "bench builder", "org_id": first.community_id,
                    "role": "construction_company", "trigger": "report_progress", "from_state": row.state,
                    "to_state": state, "reason": PROGRESS_NOTE, "payload": '{"progress":1}', "created_at": now,
                    "prev_hash": row.audit_hash or "0" * 64, "hash": "f" * 64})

    return run


def bare_orm_loop(world: World) -> Callable[[int, Clock], None]:
    """The same three statements written as plain ORM code, as a service without the
    engine would: load the row for update, change it, add the audit entry, commit."""
    from workflow.audit import AuditEntry
    from issues.models import RenovationIssue

    loop = Loop(_place_issue(world, "construction", 4), version=1)
    builder, org_id = world.people["builder"], world.buildings[0].community_id
    read = sa.select(RenovationIssue).where(RenovationIssue.id == loop.issue_id).execution_options(
        populate_existing=True)
    if not is_sqlite():
        read = read.with_for_update()

    def run(n: int, clock: Clock) -> None:
        for _ in range(n):
            loop.step += 1
            _request_user(builder)  # the request's session and person, as for fire() (not timed)
            with clock, write_transaction():
                issue = db.session.scalars(read).one()
                now = utcnow()
                issue.version += 1
                issue.progress = _progress(loop.step)
                issue.audit_seq += 1
                db.session.add(AuditEntry(
                    subject_type=BARE_SUBJECT, subject_id=issue.id, seq=issue.audit_seq, actor_id=builder,
                    actor_name="bench builder", org_id=org_id, role="construction_company", trigger="report_progress",
                    from_state=issue.state, to_state=issue.state, reason=PROGRESS_NOTE, payload='{"progress":1}',
                    created_at=now, prev_hash=issue.audit_hash or "0" * 64, hash="f" * 64))
                issue.audit_hash = "f" * 64

    return run


class Clock:
    """Wall-clock and CPU time of this process, summed over the timed sections only:
    what a loop does to set up a step (load the actor the request would already have
    loaded) is not part of the operation measured."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self) -> "Clock":
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.cpu += time.process_time() - self._cpu
        self.wall += time.perf_counter() - self._wall


@dataclass
class Measure:
    """Rounds of one loop: rate and CPU time per operation of this process."""

    rates: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)

    def run(self, loop: Callable[[int, Clock], None], n: int) -> None:
        clock = Clock()
        loop(n, clock)
        self.cpu_us.append(clock.cpu / n * 1e6)
        self.rates.append(n / clock.wall)

    @property
    def best(self) -> float:
        """Best round: load from other processes only ever slows a round down."""
        return max(self.rates)

    def paired(self, base: "Measure") -> float:
        """This loop's rate as a share of `base`'s, round by round (each round runs
        every loop back to back, so a slow spell on the machine hits both), the
        median over the rounds: steadier than comparing the best rounds."""
        return statistics.median(mine / theirs for mine, theirs in zip(self.rates, base.rates))


def part_a(url: str, label: str, rounds: int, per_round: int) -> dict[str, float]:
    print(f"\n(a) in-process fire() vs the bare statements - {label} ({rounds} interleaved rounds of {per_round})",
          flush=True)
    app = fresh_database(url)
    with app.app_context():
        world = build_world(SMALL)
        loops = {"bare Core, warm": bare_loop(world),
                 "bare, object, warm": bare_loop(world, orm_read=True),
                 "bare, object, request": bare_loop(world, orm_read=True, request=True),
                 "bare ORM unit of work": bare_orm_loop(world),
                 "fire report_progress": fire_progress_loop(world),
                 "bare Core, level, warm": bare_loop(world, level_change=True),
                 "bare, level, object, warm": bare_loop(world, orm_read=True, level_change=True),
                 "bare, level, object, request": bare_loop(world, orm_read=True, level_change=True, request=True),
                 "fire escalate/return_down": fire_review_loop(world),
                 "fire escalate/return_down, engine only": fire_review_loop(world, observers=False)}
        for loop in loops.values():
            loop(max(20, per_round // 5), Clock())  # warm caches and statement compilation
        measures = {name: Measure() for name in loops}
        for _ in range(rounds):  # interleaved, so that load on the machine hits all alike
            for name, loop in loops.items():
                measures[name].run(loop, per_round)
        _check_fire_chains()
    db_engine_dispose(app)
    _print_a(measures)
    return {name: m.best for name, m in measures.items()}


def _check_fire_chains() -> None:
    from workflow.audit import AuditEntry, verify

    # The bare loops write placeholder hashes under their own subject type, and move the
    # chain heads of their own issue rows: only the issues fire() moved are checked.
    bare = set(db.session.scalars(sa.select(AuditEntry.subject_id).where(AuditEntry.subject_type == BARE_SUBJECT)
                                  .distinct()))
    breaks = [b for b in verify() if not b.subject.startswith(BARE_SUBJECT)
              and not (b.subject.startswith("renovation_issue ") and int(b.subject.split()[1]) in bare)]
    assert breaks == [], f"fire() broke an audit chain: {breaks[0]}"


def _print_a(measures: dict[str, Measure]) -> None:
    """The target compares each fire() loop with the statements it runs itself (the row
    loaded as the mapped object, plain UPDATE and INSERT, the same columns changing),
    each step after the same request set-up. For context: the same statements back to
    back with nothing in between (warm), all-Core warm (row read as a tuple) and the
    unit of work."""
    bases = {"fire report_progress": ("bare, object, request", "bare, object, warm", "bare Core, warm"),
             "fire escalate/return_down": ("bare, level, object, request", "bare, level, object, warm",
                                           "bare Core, level, warm"),
             "fire escalate/return_down, engine only": ("bare, level, object, request", "bare, level, object, warm",
                                                        "bare Core, level, warm")}
    orm = measures["bare ORM unit of work"]
    for name, m in measures.items():
        line = (f"    {name:40s} best {m.best:6.0f}/s  median {statistics.median(m.rates):6.0f}/s  "
                f"CPU {min(m.cpu_us):5.0f} µs/op")
        if name in bases:
            base, warm, core = (measures[b] for b in bases[name])
            line += (f"\n      -> {m.paired(base):4.0%} of its bare statements after the same request set-up "
                     f"(target >= {FIRE_TARGET:.0%}; best rounds {m.best / base.best:4.0%})"
                     f"\n         {m.paired(warm):4.0%} of them warm; {m.paired(core):4.0%} of all-Core warm; "
                     f"{m.paired(orm):4.0%} of the unit of work")
        print(line, flush=True)


def db_engine_dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- (b) HTTP under gunicorn ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
    """One request on a fresh connection (gunicorn's sync workers close after each response)."""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{key}: {value}" for key, value in headers.items()]
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    status = int(raw[9:12])
    return status, raw[raw.index(b"\r\n\r\n") + 4:]


def _wait_until_up(port: int, deadline: float) -> None:
    while time.time() < deadline:
        try:
            if _http(port, "GET", "/api/v1/openapi.json", {})[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


@dataclass
class Client:
    """One client working its own issue. `steps` are (trigger, headers, extra body) taken
    in turn, one per successful transition: report_progress by the construction company,
    or escalate by the grid worker and return_down by the community officer."""

    port: int
    issue_id: int
    steps: list[tuple[str, dict[str, str], dict]]
    version: int = 1
    done: int = 0
    latencies: list[float] = field(default_factory=list)
    failures: int = 0

    def fire(self) -> None:
        trigger, headers, extra = self.steps[self.done % len(self.steps)]
        body = json.dumps({"trigger": trigger, "version": self.version, **extra,
                           **({"progress": _progress(self.done), "reason": PROGRESS_NOTE}
                              if trigger == "report_progress" else {})}).encode()
        start = time.perf_counter()
        status, answer = _http(self.port, "POST", f"/api/v1/issues/{self.issue_id}/transitions", headers, body)
        elapsed = time.perf_counter() - start
        if status != 200:
            self.failures += 1
            self.version = json.loads(answer).get("version", self.version)
            return
        self.version = json.loads(answer)["version"]
        self.done += 1
        self.latencies.append(elapsed)


HTTP_MIXES = ("report_progress", "escalate/return_down")


def _prepare_http_world(url: str, clients: int) -> tuple[dict[str, list[int]], dict[str, str]]:
    """Issues for each mix (one per client) and a bearer token for each person acting."""
    from orgs import tokens
    from orgs.models import Person

    app = fresh_database(url)
    with app.app_context():
        world = build_world(SMALL)
        issues = {"report_progress": [_place_issue(world, "construction", i) for i in range(clients)],
                  "escalate/return_down": [_place_issue(world, "review_grid", clients + i) for i in range(clients)]}
        secrets = {who: tokens.create(db.session.get(Person, world.people[who]), "bench")[1]
                   for who in ("builder", "grid", "community")}
    db_engine_dispose(app)
    return issues, secrets


def _run_clients(clients: list[Client], seconds: float) -> float:
    stop_at = time.perf_counter() + seconds

    def work(client: Client) -> None:
        while time.perf_counter() < stop_at:
            client.fire()

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        list(pool.map(work, clients))
    return time.perf_counter() - start


def part_b(workdir: Path, clients: int, seconds: float, workers: int) -> dict:
    print(f"\n(b) HTTP transitions: gunicorn {workers} sync workers, SQLite, {clients} clients, {seconds:.0f} s each",
          flush=True)
    url = f"sqlite:///{workdir / 'http.sqlite'}"
    issues, secrets = _prepare_http_world(url, clients)
    headers = {who: {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
               for who, secret in secrets.items()}
    steps = {"report_progress": [("report_progress", headers["builder"], {})],
             "escalate/return_down": [("escalate", headers["grid"], {}),
                                      ("return_down", headers["community"], {"reason": "请网格核实"})]}
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-only", "WUJI_ENV": "bench"}
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "app:create_app()"],
        cwd=ROOT, env=env,
    )
    results = {}
    try:
        _wait_until_up(port, time.time() + 60)
        for mix in HTTP_MIXES:
            pool = [Client(port, issue_id, steps[mix]) for issue_id in issues[mix]]
            _run_clients(pool, 2.0)  # warm-up: imports, statement caches, connections
            for client in pool:
                client.latencies.clear()
                client.failures = 0
            client_cpu = time.process_time()
            wall = _run_clients(pool, seconds)
            client_cpu = time.process_time() - client_cpu
            latencies = sorted(x for client in pool for x in client.latencies)
            failures = sum(client.failures for client in pool)
            throughput = len(latencies) / wall
            p50, p99 = latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000
            print(f"    {mix:21s} {len(latencies)} transitions in {wall:.1f} s: {throughput:.0f}/s "
                  f"(target >= {HTTP_TARGET_RATE:.0f}), p50 {p50:.1f} ms, p99 {p99:.1f} ms "
                  f"(target <= {HTTP_TARGET_P99_MS:.0f}), failures {failures}; the clients' own CPU "
                  f"{client_cpu / max(1, len(latencies)) * 1e6:.0f} µs per transition", flush=True)
            results[mix] = {"throughput": throughput, "p50_ms": p50, "p99_ms": p99, "failures": failures}
        _print_notifications(url)
    finally:
        server.terminate()
        server.wait(timeout=30)
    _check_chain(url)
    return results


def _print_notifications(url: str, wait: float = 5.0) -> None:
    """The workers' relay threads fan out the events after the responses: none should
    be left waiting once the load stops."""
    engine = sa.create_engine(url)
    deadline = time.time() + wait
    with engine.connect() as conn:
        while True:
            waiting = conn.execute(sa.text("SELECT count(*) FROM notification_event")).scalar_one()
            if not waiting or time.time() > deadline:
                break
            conn.rollback()
            time.sleep(0.1)
        told = conn.execute(sa.text("SELECT count(*) FROM notification")).scalar_one()
    engine.dispose()
    print(f"    notifications written by the workers' relays: {told}; events still waiting: {waiting}", flush=True)


def _check_chain(url: str) -> None:
    app = make_app(url)
    with app.app_context():
        from workflow.audit import verify

        breaks = verify()
        print(f"    audit chains after the run: {'intact' if not breaks else breaks[0]}", flush=True)
    db_engine_dispose(app)


# --- (c) the worklist over a million issues ----------------------------------------------------------


def _worklist_times(username: str, person_id: int, runs: int) -> tuple[float, float, int]:
    from orgs.models import Person
    from issues import services

    timings = []
    total = 0
    for _ in range(runs):
        db.session.expire_all()
        actor = db.session.get(Person, person_id)
        _ = [m.org.path for m in actor.memberships]  # the request has loaded its user already
        db.session.rollback()
        start = time.perf_counter()
        _rows, total = services.list_issues(actor, services.IssueFilter(queue="mine"))
        timings.append((time.perf_counter() - start) * 1000)
        db.session.rollback()
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], total


def _explain(person_id: int) -> str:
    from orgs.models import Person
    from issues import services

    actor = db.session.get(Person, person_id)
    stmt = services.issue_query(actor, services.IssueFilter(queue="mine"))
    stmt = stmt.order_by(services.RenovationIssue.due_at.is_(None), services.RenovationIssue.due_at,
                         services.RenovationIssue.id).limit(50)
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if is_sqlite() else "EXPLAIN "
    rows = db.session.execute(sa.text(prefix + str(compiled))).all()
    db.session.rollback()
    return "\n".join("      " + " ".join(str(col) for col in row) for row in rows)


def part_c(url: str, label: str, count: int, runs: int, explain: bool) -> dict:
    print(f"\n(c) worklist with {count:,} issues over {PROVINCE_SLICE.nodes():,} org nodes - {label}", flush=True)
    app = fresh_database(url)
    results = {}
    with app.app_context():
        world = timed("org tree, estates, buildings")(build_world)(PROVINCE_SLICE)
        timed(f"{count:,} issues bulk inserted")(generate_issues)(world, count)
        timed("ANALYZE (PostgreSQL: VACUUM ANALYZE)")(analyse)()
        for username in ("grid", "community"):
            median, p95, total = _worklist_times(username, world.people[username], runs)
            results[username] = median
            print(f"    worklist of the {username:9s} ({total:5d} open items awaiting): median {median:6.1f} ms, "
                  f"p95 {p95:6.1f} ms (target <= {WORKLIST_TARGET_MS:.0f})", flush=True)
            if explain:
                print(_explain(world.people[username]), flush=True)
    db_engine_dispose(app)
    return results


# --- main ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="abc")
    parser.add_argument("--issues", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--per-round", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--pg", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="wuji-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    backends = [(f"sqlite:///{workdir / 'bench.sqlite'}", "SQLite")]
    if not args.no_pg and pg_reachable(args.pg):
        backends.append((args.pg, "PostgreSQL"))
    elif not args.no_pg:
        print(f"PostgreSQL not reachable at {args.pg}: SQLite only")
    print(f"wuji transitions benchmark - {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}, work directory {workdir}", flush=True)
    if "a" in args.parts:
        for url, label in backends:
            part_a(url, label, args.rounds, args.per_round)
    if "b" in args.parts:
        part_b(workdir, args.clients, args.seconds, args.workers)
    if "c" in args.parts:
        for url, label in backends:
            part_c(url, label, args.issues, args.runs, args.explain)
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
