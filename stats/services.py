"""The dashboard of a level: the three rates and the counts of its subtree for a period.

Every figure is counted from the issue rows by SQL aggregates (no stored counters; the
response facts are those of the audit trail, kept on each row when its entries are
written): one grouped query gives the period's cube (child node x state x category x
rating, with the items answered on time, late and overdue of each), from which every
figure and every child's row is summed; a second gives the monthly trend. The conditions are those of
issues/measures.py, which the worklist applies too, so a figure and the list it links
to count the same items.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import Index, and_, case, func, literal, literal_column, select, text, union_all

from core.db import is_sqlite, utcnow
from core.errors import NotFound, NotPermitted
from core.extensions import db
from core.types import under_path
from issues import measures
from issues.models import RenovationIssue
from issues.renovation import WORKFLOW
from orgs import permissions
from orgs import roles as R
from orgs.models import OrgNode
from rules import categories
from stats.periods import Period, local_midnight_utc, months_ending

# The dashboard reads a node's items of a period as one range of this index, and every
# column it counts is in the index (migration dash_0002): no table row is read (on
# PostgreSQL an index-only scan), for the period's cube and the monthly trend alike.
# Its leading created_at serves what the plain index on created_at served.
Index("ix_renovation_issue_dashboard", RenovationIssue.created_at, RenovationIssue.path, RenovationIssue.state,
      RenovationIssue.category, RenovationIssue.satisfaction, RenovationIssue.open, RenovationIssue.due_at,
      RenovationIssue.responded_on_time, RenovationIssue.responded_at, RenovationIssue.first_due_at)

# Staff of the street, community, grid and building group levels (and admins) see the
# dashboard and ledgers of their subtree.
permissions.register("stats.view", subtree=R.LEVEL_STAFF[:-1])

# Children of these levels are not drilled into: a member household answers for
# neighbour households, whose issues carry their building group's path.
LEAF_LEVELS = ("building_group", "member_household")


@dataclass
class Figures:
    total: int = 0
    ended: int = 0
    resolved: int = 0
    rated: int = 0
    satisfied: int = 0
    rating_sum: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0

    def add(self, row) -> None:
        """Add a row of the cube: `n` items of one state and rating, `on_time`, `late`
        and `overdue` of them."""
        count, state, satisfaction = row.n, row.state, row.satisfaction
        self.total += count
        if state in measures.ENDED_STATES:
            self.ended += count
        if state in measures.RESOLVED_STATES:
            self.resolved += count
        if satisfaction is not None:
            self.rated += count
            self.rating_sum += count * satisfaction
            if satisfaction >= measures.SATISFIED_MIN:
                self.satisfied += count
        self.on_time += int(row.on_time or 0)
        self.late += int(row.late or 0)
        self.overdue += int(row.overdue or 0)

    @property
    def response_rate(self) -> Decimal | None:
        return percent(self.on_time, self.on_time + self.late)

    @property
    def resolution_rate(self) -> Decimal | None:
        return percent(self.resolved, self.ended)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return percent(self.satisfied, self.rated)

    @property
    def mean_rating(self) -> Decimal | None:
        if not self.rated:
            return None
        return (Decimal(self.rating_sum) / Decimal(self.rated)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def as_dict(self) -> dict:
        def text(value):
            return None if value is None else str(value)

        return {
            "total": self.total, "ended": self.ended, "resolved": self.resolved, "rated": self.rated,
            "satisfied": self.satisfied, "responded_on_time": self.on_time, "responded_late": self.late,
            "overdue": self.overdue, "response_rate": text(self.response_rate),
            "resolution_rate": text(self.resolution_rate), "satisfaction_rate": text(self.satisfaction_rate),
            "mean_rating": text(self.mean_rating),
        }


def percent(part: int, whole: int) -> Decimal | None:
    """part/whole in per cent to one decimal (exact rounding), None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class Count:
    code: str
    label: str
    count: int
    args: dict  # the worklist filter for exactly these items


@dataclass
class Month:
    first: date
    raised: int
    ended: int
    resolved: int


@dataclass
class Dashboard:
    node: OrgNode
    period: Period
    now: datetime
    figures: Figures
    by_state: list[Count]
    by_category: list[Count]
    by_level: list[Count]
    children: list[tuple[OrgNode, Figures]]
    trend: list[Month]
    ancestors: list[OrgNode] = field(default_factory=list)

    def worklist_args(self, **extra) -> dict:
        """Arguments of /issues for the items of this dashboard (node and period), narrowed by `extra`."""
        return {"queue": "all", "node": self.node.id, **self.period.args(), **extra}


def parse_node(raw: str | None) -> int | None:
    """A `node` argument as an org node id (None when absent); anything else is no node: 404."""
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise NotFound(_("Not found.")) from None
    if not 0 < value < 2**31:
        raise NotFound(_("Not found."))
    return value


def home_node(actor) -> OrgNode:
    """The org node of the viewer's membership that may see a dashboard (the highest)."""
    grants = permissions.action("stats.view").grants
    memberships = [m for m in actor.memberships if grants.get(m.role) == permissions.SUBTREE]
    if not memberships:
        raise NotPermitted(_("You are not permitted to do this."))
    return min(memberships, key=lambda m: len(m.org.path)).org


def viewed_node(actor, node_id: int | None) -> OrgNode:
    """The node asked for (else the viewer's own); outside the viewer's subtree: 404."""
    if node_id is None:
        return home_node(actor)
    node = db.session.get(OrgNode, node_id)
    if node is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, "stats.view", node)
    return node


def drill_children(node: OrgNode) -> list[OrgNode]:
    if node.level_code in LEAF_LEVELS:
        return []
    return list(db.session.scalars(
        select(OrgNode).where(OrgNode.parent_id == node.id, OrgNode.level_code != "member_household")
        .order_by(OrgNode.code)))


def _in(node: OrgNode, period: Period):
    return and_(under_path(RenovationIssue.path, node.path), RenovationIssue.created_at >= period.start,
                RenovationIssue.created_at < period.end)


def interval_of(column, bounds: list, values: list):
    """values[i] where bounds[i-1] <= column < bounds[i] (values[0] below bounds[0], the
    last value from the last bound on), as nested CASEs that halve the bounds: about
    log2(len(bounds)) comparisons per row instead of a comparison per bound."""
    if len(values) == 1:
        return literal(values[0])
    middle = len(values) // 2
    return case((column < bounds[middle - 1], interval_of(column, bounds[:middle - 1], values[:middle])),
                else_=interval_of(column, bounds[middle:], values[middle:]))


def child_of(children: list[OrgNode]):
    """The id of the child whose subtree holds the item's path (0: none, the node's own)."""
    bounds, values = [], [0]
    for c in sorted(children, key=lambda c: c.path):
        bounds += [c.path, c.path[:-1] + chr(ord(c.path[-1]) + 1)]  # as under_path(): [path, upper)
        values += [c.id, 0]
    return interval_of(RenovationIssue.path, bounds, values)


def _settle_planner() -> None:
    """PostgreSQL, for the rest of this transaction: hash the cube's groups in memory,
    compile nothing, and plan each query for its own period. The planner cannot know how
    few groups the child expression yields (it guesses a hundred thousand) and would sort
    the period's rows on disk instead; JIT compiling the query costs more than the scan
    it would speed up; and psycopg prepares a statement run five times, after which the
    server may keep one generic plan for every period - a month's index range plan for a
    whole year (0.9 s instead of 0.3 s)."""
    if not is_sqlite():
        db.session.execute(text("SET LOCAL work_mem = '32MB'"))
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _cube(node: OrgNode, children: list[OrgNode], period: Period, now: datetime):
    """The period's items grouped by child node, state, category and rating, with how
    many of each group were answered on time, late, and are overdue: conditional sums
    rather than more grouping keys (fewer groups to sort or hash, the same figures)."""
    child = child_of(children).label("child")

    def counted(condition):
        return func.count().filter(condition)

    stmt = (
        select(child, RenovationIssue.state, RenovationIssue.category, RenovationIssue.satisfaction,
               func.count().label("n"), counted(measures.responded_on_time()).label("on_time"),
               counted(measures.responded_late(now)).label("late"), counted(measures.overdue(now)).label("overdue"))
        .where(_in(node, period))
        # By the output name: the child's expression is evaluated once per row.
        .group_by(literal_column("child"), RenovationIssue.state, RenovationIssue.category,
                  RenovationIssue.satisfaction)
    )
    return db.session.execute(stmt).all()


def month_last_day(first: date) -> date:
    """The last day of the month that begins on `first`."""
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _trend(node: OrgNode, period: Period) -> list[Month]:
    """Items raised per month over the 12 months ending with the period's last one, and
    how many of them have ended and been resolved: one range of the dashboard index per
    month, read without touching the table (no per-row month
    expression to compute and group by)."""
    months = months_ending(period.last)
    ended = func.sum(case((measures.ended(), 1), else_=0))
    resolved = func.sum(case((measures.resolved(), 1), else_=0))
    parts = [
        select(literal(index).label("month"), func.count().label("n"), ended.label("ended"),
               resolved.label("resolved"))
        .where(under_path(RenovationIssue.path, node.path),
               RenovationIssue.created_at >= local_midnight_utc(first),
               RenovationIssue.created_at < local_midnight_utc(month_last_day(first) + timedelta(days=1)))
        for index, first in enumerate(months)
    ]
    found = {row.month: row for row in db.session.execute(union_all(*parts))}
    return [Month(first, found[i].n, int(found[i].ended or 0), int(found[i].resolved or 0))
            for i, first in enumerate(months)]


def dashboard(actor, node_id: int | None, period: Period, now: datetime | None = None) -> Dashboard:
    """The dashboard of `node_id` (else the viewer's own node) for `period`."""
    now = now or utcnow()
    node = viewed_node(actor, node_id)
    children = drill_children(node)
    figures = Figures()
    per_child = {c.id: Figures() for c in children}
    _settle_planner()
    states: dict[str, int] = {}
    cats: dict[str, int] = {}
    for row in _cube(node, children, period, now):
        figures.add(row)
        if row.child in per_child:
            per_child[row.child].add(row)
        states[row.state] = states.get(row.state, 0) + row.n
        cats[row.category] = cats.get(row.category, 0) + row.n
    by_state = [Count(name, str(state.label), states.get(name, 0), {"state": name})
                for name, state in WORKFLOW.states.items()]
    by_category = [Count(code, str(label), cats.get(code, 0), {"category": code})
                   for code, label in categories.CATEGORIES.items()]
    levels: dict[str, int] = {}
    for name, count in states.items():
        level = WORKFLOW.states[name].level if name in WORKFLOW.states else None
        if level:
            levels[level] = levels.get(level, 0) + count
    by_level = [Count(level.code, str(level.label), levels.get(level.code, 0), {"level": level.code})
                for level in R.LEVELS]
    ancestors = list(db.session.scalars(
        select(OrgNode).where(OrgNode.id.in_(node.ancestor_ids()[:-1])).order_by(OrgNode.depth)))
    home = home_node(actor)
    ancestors = [a for a in ancestors if a.path.startswith(home.path)]
    return Dashboard(node, period, now, figures, by_state, by_category, by_level,
                     [(c, per_child[c.id]) for c in children], _trend(node, period), ancestors)
