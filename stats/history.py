"""A year of demo history: a few thousand issues over the demo estates, with their audit
entries (hash-chained and sealed like any others) and ratings, so that the dashboard
shows real differences between grids (`flask demo load`, after the other demo data),
and a few plan items put to the vote through the real services (electorate, paper
ballots, count), so that the ledger has votes with their exact figures.

Written with bulk inserts, not through fire(): a year of transitions through the
engine would take minutes. Every entry is one of the workflow's own transitions or
events, in an order the workflow allows, and the chain verifies (`flask audit verify`).
Deterministic (seeded); loaded once. Each grid has its own pace: some answer on time
and resolve most items, others are slow, which the dashboard makes visible.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, update

from core.db import utcnow
from core.extensions import db
from issues.models import RenovationIssue
from issues.renovation import WORKFLOW
from orgs import demo as org_demo
from orgs.models import Estate, Household, HouseholdPerson, OrgNode, Person, StairwellUnit, node_at_level
from issues import services as issue_services
from procedures import demo as procedure_demo
from rules.policy import current_policy
from workflow import audit, engine

ISSUES = 2_400
DAYS = 365
MARK = "演示数据：过去一年的历史事项。"
TITLES = {
    "basic": [("楼道灯损坏", "stairs"), ("雨水管堵塞", "drainage"), ("路面破损", "roads"), ("屋顶漏水", "roofs"),
              ("外墙脱落", "walls"), ("飞线杂乱", "wires")],
    "improvement": [("增设电动车充电桩", "ev_charging"), ("停车位不足", "parking"), ("增设无障碍坡道", "accessibility"),
                    ("绿化补植", "greening"), ("路灯不亮", "lighting")],
    "upgrade": [("建设老年食堂", "elderly_care"), ("增设快递柜", "smart")],
}


def _subcategories() -> dict[str, list[tuple[str, str]]]:
    """The demo titles whose sub-category the city policy knows (others fall back to its first)."""
    policy = current_policy()
    result = {}
    for category, items in TITLES.items():
        known = [sub.code for sub in policy.subcategories_of(category)]
        result[category] = [(title, sub if sub in known else known[0]) for title, sub in items if known]
    return result


THIRD_ESTATE = ("FSL-C3", "FSL-E3", "浮山后小区", "浮山路街道浮山后三路6号", 4)


def _third_estate(rng: random.Random) -> None:
    """The third community's estate (the org tree's demo leaves it without one), with its
    owners and the neighbour households of its member households, so that the history
    covers all three communities."""
    community_code, code, name, address, buildings = THIRD_ESTATE
    if db.session.scalar(select(Estate.id).where(Estate.code == code)) is not None:
        return
    community = db.session.scalar(select(OrgNode).where(OrgNode.code == community_code))
    if community is None:
        return
    grids = list(community.children)
    _estate, households = org_demo._estate(rng, community, grids, code, name, address, buildings)
    db.session.flush()
    org_demo._owners(rng, households)
    members = [m for grid in grids for group in grid.children for m in group.children]
    org_demo._liaisons(members, households)
    db.session.flush()


def load() -> str | None:
    if db.session.scalar(select(RenovationIssue.id).where(RenovationIssue.description.startswith(MARK)).limit(1)):
        return None
    rng = random.Random(20261204)
    _third_estate(rng)
    households = db.session.execute(
        select(Household.id, Household.estate_id, Household.unit_id, StairwellUnit.building_id, Household.path)
        .join(StairwellUnit, StairwellUnit.id == Household.unit_id).order_by(Household.id)).all()
    if not households:
        return None
    owners = dict(db.session.execute(select(HouseholdPerson.household_id, func.min(HouseholdPerson.person_id))
                                     .group_by(HouseholdPerson.household_id)).all())
    staff = {p.username: p for p in db.session.scalars(select(Person).where(Person.username.is_not(None)))}
    actors = {"building_group": staff.get("group"), "grid_branch": staff.get("grid"),
              "community_committee": staff.get("community"), "street_committee": staff.get("street")}
    if not all(actors.values()):
        return None
    grids = {}
    subs = _subcategories()
    now = utcnow()
    heads, entries = [], []
    for _n in range(ISSUES):
        h = rng.choice(households)
        raiser = owners.get(h.id) or actors["building_group"].id
        grid_id = node_at_level(h.path, "grid_branch")
        # Each grid's pace: the chance of answering late and of resolving, its residents' mood.
        pace = grids.setdefault(grid_id, (rng.uniform(0.05, 0.45), rng.uniform(0.55, 0.9), rng.uniform(2.8, 4.6)))
        category = rng.choices(list(subs), weights=(6, 3, 1))[0]
        title, sub = rng.choice(subs[category])
        created = now - timedelta(days=rng.uniform(0, DAYS), minutes=rng.randint(0, 600))
        issue = _Issue(h, raiser, category, sub, title, created)
        _walk(rng, issue, pace, actors, now)
        ident = db.session.execute(insert(RenovationIssue.__table__).values(issue.row()).returning(
            RenovationIssue.__table__.c.id)).scalar_one()
        head = _chain(ident, issue.entries, entries)
        heads.append({"ident": ident, **head})
    db.session.execute(insert(audit.AuditEntry.__table__), entries)
    table = RenovationIssue.__table__
    db.session.execute(update(table).where(table.c.id == bindparam("ident")).values(
        audit_seq=bindparam("seq"), audit_hash=bindparam("hash"), audit_mac=bindparam("mac"),
        version=bindparam("seq")), heads)
    votes = _votes(staff)
    return f"{ISSUES} issues of demo history over a year, {votes} votes"


VOTED = [
    ("5号楼加装电梯", "improvement", "elevator", "agree"),
    ("增设电动车充电棚", "improvement", "ebike_shed", "agree"),
    ("小区绿化提升", "improvement", "greening", "disagree"),
]


def _votes(staff) -> int:
    """Plan items of the first estate put to the vote through the real services: the
    electorate snapshot, paper ballots entered by the grid worker, the count by the
    city's rule and the issue moved on by the result (exact figures in the ledger)."""
    estate = db.session.scalar(select(Estate).where(Estate.code == "FSL-E1"))
    officer, grid = staff.get("community"), staff.get("grid")
    if estate is None or officer is None or grid is None:
        return 0
    policy = current_policy()
    count = 0
    for title, category, sub, choice in VOTED:
        known = [item.code for item in policy.subcategories_of(category)]
        issue = issue_services.launch_task(officer, title=title, description=MARK, category=category,
                                           subcategory=sub if sub in known else known[0], place_kind="estate",
                                           place_id=estate.id)
        for trigger in ("start_consultation", "open_vote"):
            engine.fire(RenovationIssue, issue.id, trigger, officer, None)
        procedure_demo.unanimous_paper_vote(issue.id, officer, grid, choice)
        count += 1
    return count


class _Issue:
    def __init__(self, h, raiser, category, sub, title, created):
        self.h, self.raiser, self.category, self.sub, self.title = h, raiser, category, sub, title
        self.created = created
        self.state = "review_building"
        self.entered = created
        self.due = None
        self.open = True
        self.satisfaction = None
        self.escalations = 0
        self.entries = []
        self.note = ""

    def enter(self, state: str, at: datetime) -> None:
        self.state, self.entered = state, at
        spec = WORKFLOW.state(state)
        days = current_policy().deadline(WORKFLOW.name, state) if spec.deadline and not spec.terminal else None
        self.due = engine.working_days_after(at, days) if days else None

    def step(self, trigger: str, to_state: str, at: datetime, actor, reason: str = "", payload=None) -> None:
        from_state = self.state if self.entries else None
        changed = to_state != self.state or not self.entries
        if changed:
            self.enter(to_state, at)
        self.entries.append({
            "actor_id": actor.id if actor is not None else None,
            "actor_name": actor.name if actor is not None else "system",
            "org_id": None, "role": None, "trigger": trigger, "from_state": from_state, "to_state": to_state,
            "reason": reason, "payload": audit.canonical_payload(payload), "created_at": at,
            "due_at": self.due if changed else None,
        })

    def row(self) -> dict:
        level = WORKFLOW.state(self.state).level
        return {
            "title": self.title, "description": MARK, "category": self.category, "subcategory": self.sub,
            "direction": "demand", "estate_id": self.h.estate_id, "building_id": self.h.building_id,
            "unit_id": self.h.unit_id, "household_id": self.h.id, "raised_by_id": self.raiser,
            "path": self.h.path, "public_note": self.note, "progress": 100 if self.state in (
                "long_term_management", "closed") else 0, "open": self.open, "satisfaction": self.satisfaction,
            "satisfaction_comment": "", "escalations": self.escalations, "created_at": self.created,
            "state": self.state, "version": 1, "state_entered_at": self.entered,
            "due_at": self.due if self.open else None,
            "responsible_org_id": node_at_level(self.h.path, level) if level and level != "member_household" else None,
            "audit_seq": 0, **self.response_facts(),
        }

    def response_facts(self) -> dict:
        """What RenovationIssue.audit_appended() keeps from the first two entries."""
        first_due = self.entries[0]["due_at"] if self.entries else None
        if len(self.entries) < 2:
            return {"first_due_at": first_due, "responded_at": None, "responded_on_time": False}
        second = self.entries[1]
        at, actor_id = second["created_at"], second["actor_id"]
        return {"first_due_at": first_due, "responded_at": at,
                "responded_on_time": (actor_id is not None and actor_id != self.raiser
                                      and (first_due is None or at <= first_due))}


class _Raiser:
    def __init__(self, ident: int):
        self.id, self.name = ident, "居民"


def _walk(rng: random.Random, issue: _Issue, pace, actors, now: datetime) -> None:
    """The issue's life: raised, answered (on time or late), then one of the workflow's paths."""
    late, resolves, mood = pace
    raiser = _Raiser(issue.raiser)
    issue.step("create", "review_building", issue.created, raiser)
    t = issue.created

    def later(low: float, high: float) -> datetime | None:
        nonlocal t
        t = t + timedelta(days=rng.uniform(low, high))
        return t if t < now else None

    slow = rng.random() < late
    first = later(6, 20) if slow else later(0.1, 3)
    if first is None:
        return  # not answered yet
    if slow and rng.random() < 0.5:
        issue.step("escalate", "review_grid", first, None, "超过办理期限，自动上报。")
    else:
        roll = rng.random()
        if roll < 0.3:
            _finish_resolved(rng, issue, "resolve", first, actors["building_group"], mood, later)
            return
        issue.step("escalate", "review_grid", first, actors["building_group"])
    at = later(0.5, 6)
    if at is None:
        return
    roll = rng.random()
    if roll > resolves:
        issue.note = "经核实不属于改造范围，已向居民说明。"
        issue.step("reject", "rejected", at, actors["grid_branch"], issue.note)
        issue.open = False
        return
    if roll < 0.55 * resolves:
        _finish_resolved(rng, issue, "resolve", at, actors["grid_branch"], mood, later)
        return
    issue.step("escalate", "review_community", at, actors["grid_branch"])
    community = actors["community_committee"]
    for trigger, state, low, high, reason in (
        ("include_in_plan", "planned", 1, 8, ""), ("start_consultation", "consultation", 3, 15, ""),
        ("skip_vote", "public_notice", 3, 10, "属于基础类改造，无需业主表决。"),
        ("start_construction", "construction", 7, 12, ""),
        ("finish_construction", "acceptance", 10, 40, ""),
        ("accept", "long_term_management", 2, 10, ""),
    ):
        at = later(low, high)
        if at is None:
            return
        actor = None if trigger == "accept" else community
        issue.step(trigger, state, at, actor, reason)
    _rate_and_close(rng, issue, mood, later, community)


def _finish_resolved(rng, issue: _Issue, trigger: str, at: datetime, actor, mood: float, later) -> None:
    issue.note = "已协调物业处理完毕。"
    issue.step(trigger, "resolved", at, actor, issue.note)
    _rate_and_close(rng, issue, mood, later, actor)


def _rate_and_close(rng, issue: _Issue, mood: float, later, closer) -> None:
    if rng.random() < 0.7:
        at = later(0.5, 5)
        if at is None:
            return
        score = max(1, min(5, round(rng.gauss(mood, 1.0))))
        issue.satisfaction = score
        issue.step("rate", issue.state, at, _Raiser(issue.raiser), payload={"satisfaction": score})
    if rng.random() < 0.6:
        at = later(1, 10)
        if at is None:
            return
        issue.step("close", "closed", at, closer)
        issue.open = False


def _chain(ident: int, steps: list[dict], out: list[dict]) -> dict:
    """Number and hash the issue's entries into `out`; the chain head's seq, hash and seal."""
    previous = audit.GENESIS
    for seq, step in enumerate(steps, start=1):
        values = {"subject_type": RenovationIssue.subject_type, "subject_id": ident, "seq": seq, **step,
                  "prev_hash": previous}
        due_at = values.pop("due_at")
        values["hash"] = audit._hash(**values)
        values["due_at"] = due_at
        previous = values["hash"]
        out.append(values)
    seq = len(steps)
    return {"seq": seq, "hash": previous, "mac": audit.seal(RenovationIssue.subject_type, ident, seq, previous)}
