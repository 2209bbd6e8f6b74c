"""One table of the five levels (orgs.roles.LEVELS) agrees with the org_level rows the
migrations seed, and feeds the lists of levels elsewhere."""
from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from dispatch.models import LEVEL_ACTIONS
from orgs.models import OrgLevel
from orgs.roles import LEVEL_LABELS, LEVEL_STAFF, LEVELS
from workflow.diagram import LEVEL_COLOURS


def test_the_seeded_org_levels_are_the_table_of_levels(app):
    with app.app_context():
        rows = db.session.execute(select(OrgLevel.code, OrgLevel.rank).order_by(OrgLevel.rank)).all()
    assert [tuple(row) for row in rows] == [(level.code, level.rank) for level in LEVELS]


def test_every_list_of_levels_reads_the_table():
    codes = [level.code for level in LEVELS]
    assert list(LEVEL_LABELS) == codes and list(LEVEL_COLOURS) == codes and list(LEVEL_ACTIONS) == codes
    assert LEVEL_STAFF == tuple(level.staff_role for level in LEVELS)
    assert LEVEL_ACTIONS["grid_branch"] == ("dispatch.act_grid", "grid_worker")
