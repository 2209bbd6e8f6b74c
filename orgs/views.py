"""Home page and the org tree / places browser."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from core.errors import NotFound
from core.extensions import db
from orgs import permissions, services
from orgs.models import Building, Estate, Household, OrgNode, StairwellUnit
from orgs.roles import RESIDENT

bp = Blueprint("orgs", __name__)


def load(model, ident: int, action: str):
    """The one loader for org objects: missing or outside jurisdiction is 404,
    inside but not allowed is 403 (decided by permissions.require)."""
    obj = db.session.get(model, ident)
    if obj is None:
        raise NotFound(_("Not found."))
    permissions.require(current_user, action, obj)
    return obj


def _visible_ancestors(node: OrgNode) -> list[OrgNode]:
    ids = node.ancestor_ids()[:-1]
    if not ids:
        return []
    nodes = {n.id: n for n in db.session.scalars(select(OrgNode).where(OrgNode.id.in_(ids)))}
    chain = [nodes[i] for i in ids if i in nodes]
    return [n for n in chain if permissions.can(current_user, "org.view", n)]


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return render_template("orgs/landing.html")
    memberships = sorted(current_user.memberships, key=lambda m: m.org.path)
    jurisdictions = [
        (m, services.subtree_counts(m.org)) for m in memberships if m.role != RESIDENT
    ]
    # One line per flat, whether the person owns it, lives in it, or both.
    households = list({link.household_id: link.household for link in current_user.household_links}.values())
    return render_template(
        "orgs/home.html", memberships=memberships, jurisdictions=jurisdictions, households=households,
        home_panels=[html for html in (panel(current_user) for panel in current_app.extensions.get(
            "wuji_home_panels", ())) if html],
    )


@bp.route("/orgs/")
@login_required
def tree_root():
    paths = permissions.subtree_paths(current_user, "org.view")
    if not paths:
        raise NotFound(_("Not found."))
    first = int(paths[0].strip("/").split("/")[-1])
    return redirect(url_for("orgs.org_node", node_id=first))


@bp.route("/orgs/<int:node_id>")
@login_required
def org_node(node_id: int):
    node = load(OrgNode, node_id, "org.view")
    estates = db.session.scalars(select(Estate).where(Estate.org_id == node.id).order_by(Estate.code)).all()
    buildings = db.session.scalars(
        select(Building).where(Building.org_id == node.id).order_by(Building.estate_id, Building.sort_key)
    ).all()
    return render_template(
        "orgs/org_node.html",
        node=node,
        ancestors=_visible_ancestors(node),
        counts=services.subtree_counts(node),
        child_counts=services.child_counts(node),
        estates=estates,
        buildings=buildings,
    )


def _household_counts(column, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = db.session.execute(
        select(column, func.count()).where(column.in_(ids)).group_by(column)
    )
    return dict(rows.all())


@bp.route("/estates/<int:estate_id>")
@login_required
def estate(estate_id: int):
    estate = load(Estate, estate_id, "place.view")
    building_ids = [b.id for b in estate.buildings]
    counts = dict(
        db.session.execute(
            select(StairwellUnit.building_id, func.count(Household.id))
            .join(Household, Household.unit_id == StairwellUnit.id)
            .where(StairwellUnit.building_id.in_(building_ids))
            .group_by(StairwellUnit.building_id)
        ).all()
    ) if building_ids else {}
    visible = [b for b in estate.buildings if permissions.can(current_user, "place.view", b)]
    return render_template("orgs/estate.html", estate=estate, buildings=visible, counts=counts)


@bp.route("/buildings/<int:building_id>")
@login_required
def building(building_id: int):
    building = load(Building, building_id, "place.view")
    counts = _household_counts(Household.unit_id, [u.id for u in building.units])
    return render_template("orgs/building.html", building=building, counts=counts)


@bp.route("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    unit = load(StairwellUnit, unit_id, "place.view")
    return render_template("orgs/unit.html", unit=unit)


@bp.route("/households/<int:household_id>")
@login_required
def household(household_id: int):
    household = load(Household, household_id, "place.view")
    return render_template("orgs/household.html", household=household)
