"""Pages: the first run (/setup), administration (/admin/...), and household claims
(/claim, /register). Thin: the work is done by admin.services."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from admin import services
from core.errors import DomainError, NotFound
from core.extensions import db
from core.web import flash_error
from orgs import permissions
from orgs import roles as R
from orgs import services as org_services
from orgs.models import Building, Estate, Household, OrgNode, Person, StairwellUnit

bp = Blueprint("admin", __name__)
PER_PAGE = 50

# Where a person who must change their password may still go.
_OPEN_ENDPOINTS = {"auth.change_password", "auth.logout", "auth.set_language", "static", "_favicon"}


class CsrfForm(FlaskForm):
    """The forms here read their fields from request.form; this checks the CSRF token."""


@bp.before_app_request
def _must_change_password():
    if (getattr(current_user, "is_authenticated", False) and current_user.must_change_password
            and request.endpoint not in _OPEN_ENDPOINTS and not request.path.startswith("/api/")):
        flash(_("Please choose a new password before you go on."), "info")
        return redirect(url_for("auth.change_password"))
    return None


@bp.app_context_processor
def _setup_link():
    return {"setup_open": services.setup_open}


def _posted(action, *args, **kwargs):
    """Run a service on a posted form: on a domain error flash it and stay (4xx)."""
    form = CsrfForm()
    if not form.validate_on_submit():
        flash(_("The form has expired or was not sent from this site. Reload the page and try again."), "error")
        g.admin_status = 400
        return None, False
    try:
        return action(*args, **kwargs), True
    except IntegrityError:
        # Another request added the same name or code a moment before (the checks ran
        # before its commit); nothing of this one was written.
        db.session.rollback()
        flash(_("Someone else added the same name or code at the same moment. Nothing was saved."), "error")
        g.admin_status = 409
        return None, False
    except DomainError as err:
        if err.status == 404:
            raise
        flash_error(err)
        g.admin_status = err.status
        return None, False


def _failed() -> int:
    """The status of a refused form: the domain error's (403, 409, 422 ...), else 422."""
    return g.get("admin_status", 422)


def _form(name: str) -> str:
    return request.form.get(name, "")


def _int(name: str, source=None) -> int | None:
    try:
        return int((source or request.form).get(name, ""))
    except ValueError:
        return None


def _require_admin_area() -> list[str]:
    paths = permissions.subtree_paths(current_user, services.MANAGE)
    if not paths:
        raise NotFound(_("Not found."))
    return paths


# --- first run ---------------------------------------------------------------------

@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if not services.setup_open():
        raise NotFound(_("Not found."))
    form = CsrfForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("The form has expired or was not sent from this site. Reload the page and try again."), "error")
            status = 400
        else:
            try:
                services.first_run(_form("name"), _form("username"), _form("password"), _form("confirm"),
                                   _form("street_code"), _form("street_name"))
            except DomainError as err:
                if err.status == 404:
                    raise
                flash_error(err)
                status = err.status
            else:
                flash(_("The system is set up. Log in with the administrator account you just created."), "info")
                return redirect(url_for("auth.login"))
    return render_template("admin/setup.html", form=form, values=request.form), status


# --- the org tree ------------------------------------------------------------------

@bp.route("/admin/")
@login_required
def index():
    paths = _require_admin_area()
    roots = list(db.session.scalars(select(OrgNode).where(OrgNode.path.in_(paths)).order_by(OrgNode.path)))
    return render_template(
        "admin/index.html", roots=roots, log=services.recent_log(current_user),
        claims=len(services.pending_claims(current_user)),
    )


@bp.route("/admin/orgs/<int:node_id>", methods=["GET", "POST"])
@login_required
def org_node(node_id: int):
    node = services.load(current_user, OrgNode, node_id)
    status = 200
    if request.method == "POST":
        what = _form("what")
        if what == "rename":
            _result, ok = _posted(services.rename_node, current_user, node.id, _form("name"))
        elif what == "child":
            _result, ok = _posted(services.add_child, current_user, node.id, _form("level"), _form("code"),
                                  _form("name"))
        elif what == "estate":
            _result, ok = _posted(services.add_estate, current_user, node.id, _form("code"), _form("name"),
                                  _form("address"))
        else:
            ok = False
        if ok:
            flash(_("Saved."), "info")
            return redirect(url_for("admin.org_node", node_id=node.id))
        status = _failed()
        node = services.load(current_user, OrgNode, node_id)
    children = list(db.session.scalars(select(OrgNode).where(OrgNode.parent_id == node.id).order_by(OrgNode.code)))
    estates = list(db.session.scalars(select(Estate).where(Estate.org_id == node.id).order_by(Estate.code)))
    ancestors = [n for n in db.session.scalars(select(OrgNode).where(OrgNode.id.in_(node.ancestor_ids()[:-1])))
                 if permissions.can(current_user, services.MANAGE, n)]
    ancestors.sort(key=lambda n: len(n.path))
    return render_template("admin/org.html", node=node, children=children, estates=estates, ancestors=ancestors,
                           levels=services.child_levels(node), values=request.form), status


# --- places ------------------------------------------------------------------------

@bp.route("/admin/estates/<int:estate_id>", methods=["GET", "POST"])
@login_required
def estate(estate_id: int):
    place = services.load(current_user, Estate, estate_id)
    status = 200
    if request.method == "POST":
        what = _form("what")
        if what == "edit":
            _r, ok = _posted(services.edit_estate, current_user, place.id, _form("name"), _form("address"))
        elif what == "building":
            _r, ok = _posted(services.add_building, current_user, place.id, _form("number"), _int("org"))
        elif what == "unit":
            _r, ok = _posted(services.add_unit, current_user, _int("building"), _form("number"))
        else:
            ok = False
        if ok:
            flash(_("Saved."), "info")
            return redirect(url_for("admin.estate", estate_id=estate_id))
        status = _failed()
        place = services.load(current_user, Estate, estate_id)
    counts = dict(db.session.execute(
        select(Household.unit_id, func.count()).where(Household.estate_id == place.id).group_by(Household.unit_id)
    ).all())
    return render_template("admin/estate.html", estate=place, orgs=services.building_orgs(place), counts=counts,
                           values=request.form), status


@bp.route("/admin/units/<int:unit_id>", methods=["GET", "POST"])
@login_required
def unit(unit_id: int):
    place = services.load(current_user, StairwellUnit, unit_id)
    status = 200
    if request.method == "POST":
        what = _form("what")
        if what == "household":
            _r, ok = _posted(services.add_household, current_user, place.id, _form("room"), _form("area"),
                             _form("adult_count") or 0)
        elif what == "edit":
            _r, ok = _posted(services.edit_household, current_user, _int("household"), _form("area"),
                             _form("adult_count") or 0)
        else:
            ok = False
        if ok:
            flash(_("Saved."), "info")
            return redirect(url_for("admin.unit", unit_id=unit_id))
        status = _failed()
        place = services.load(current_user, StairwellUnit, unit_id)
    return render_template("admin/unit.html", unit=place, values=request.form), status


# --- accounts ----------------------------------------------------------------------

def _assignable_roles() -> list[tuple[str, str]]:
    admin = any(m.role == R.ADMIN for m in current_user.memberships)
    return [(code, R.role_label(code)) for code in R.ALL_ROLES if admin or code != R.ADMIN]


def _org_by_code(code: str) -> int:
    return org_services.get_org((code or "").strip()).id


@bp.route("/admin/people/", methods=["GET", "POST"])
@login_required
def people():
    _require_admin_area()
    status = 200
    if request.method == "POST":
        def create():
            return services.create_account(current_user, _form("name"), _form("username"), _form("phone"),
                                           _org_by_code(_form("org")), _form("role"))
        result, ok = _posted(create)
        if ok:
            person_id, password = result
            return render_template("admin/temporary_password.html", person=db.session.get(Person, person_id),
                                   password=password)
        status = _failed()
    query = services.manageable_people_query(current_user)
    q = request.args.get("q", "").strip()[:80]
    if q:
        like = f"%{q}%"
        query = query.where(or_(Person.name.like(like), Person.username.like(like), Person.phone.like(like)))
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(db.session.scalars(query.order_by(Person.name, Person.id).limit(PER_PAGE).offset((page - 1) * PER_PAGE)))
    return render_template("admin/people.html", rows=rows, total=total, page=page, q=q,
                           pages=max(1, (total + PER_PAGE - 1) // PER_PAGE), roles=_assignable_roles(),
                           values=request.form, nodes=services.node_choices(current_user)), status


@bp.route("/admin/people/<int:person_id>", methods=["GET", "POST"])
@login_required
def person(person_id: int):
    who = services.load_person(current_user, person_id)
    status = 200
    if request.method == "POST":
        what = _form("what")
        if what == "reset":
            password, ok = _posted(services.reset_password, current_user, who.id)
            if ok:
                return render_template("admin/temporary_password.html", person=db.session.get(Person, person_id),
                                       password=password)
        elif what == "grant":
            _r, ok = _posted(lambda: services.grant(current_user, who.id, _org_by_code(_form("org")), _form("role")))
        elif what == "revoke":
            _r, ok = _posted(services.revoke, current_user, _int("membership"))
        elif what in ("deactivate", "activate"):
            _r, ok = _posted(services.set_active, current_user, who.id, what == "activate")
        else:
            ok = False
        if ok:
            flash(_("Saved."), "info")
            try:
                services.load_person(current_user, person_id)
            except NotFound:  # the last role in the actor's reach was revoked
                return redirect(url_for("admin.people"))
            return redirect(url_for("admin.person", person_id=person_id))
        status = _failed()
        who = services.load_person(current_user, person_id)
    memberships = sorted(who.memberships, key=lambda m: m.org.path)
    return render_template("admin/person.html", person=who, memberships=memberships, roles=_assignable_roles(),
                           nodes=services.node_choices(current_user)), status


# --- household claims --------------------------------------------------------------

@bp.route("/admin/claims/", methods=["GET", "POST"])
@login_required
def claims():
    if not permissions.subtree_paths(current_user, services.CLAIMS):
        raise NotFound(_("Not found."))
    status = 200
    if request.method == "POST":
        approve = _form("decision") == "approve"
        _r, ok = _posted(services.decide_claim, current_user, _int("claim"), approve, _form("reason"))
        if ok:
            flash(_("The claim has been approved.") if approve else _("The claim has been rejected."), "info")
            return redirect(url_for("admin.claims"))
        status = _failed()
    return render_template("admin/claims.html", claims=services.pending_claims(current_user)), status


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("admin.claim"))
    form = CsrfForm()
    status = 200
    if request.method == "POST":
        person_id, ok = _posted(services.register_resident, _form("name"), _form("mobile"), _form("password"),
                                _form("confirm"), request.remote_addr)
        if ok:
            session.clear()
            login_user(db.session.get(Person, person_id))
            session.permanent = True
            flash(_("Your account has been created. Now tell us where you live."), "info")
            return redirect(url_for("admin.claim"))
        status = _failed()
    return render_template("admin/register.html", form=form, values=request.form), status


@bp.route("/claim", methods=["GET", "POST"])
@login_required
def claim():
    status = 200
    if request.method == "POST":
        claim_row, ok = _posted(services.submit_claim, current_user, _int("household"), _form("owner_phone"))
        if ok:
            if claim_row.status == "approved":
                flash(_("Your household has been added to your account."), "info")
            else:
                flash(_("Your claim has been sent to the grid worker of the building."), "info")
            return redirect(url_for("admin.claim"))
        status = _failed()
    args = request.args
    estate = db.session.get(Estate, _int("estate", args)) if _int("estate", args) else None
    building = db.session.get(Building, _int("building", args)) if _int("building", args) else None
    unit_row = db.session.get(StairwellUnit, _int("unit", args)) if _int("unit", args) else None
    if unit_row is not None:
        building = unit_row.building
    if building is not None:
        estate = building.estate
    estates = list(db.session.scalars(select(Estate).order_by(Estate.name).limit(500))) if estate is None else []
    return render_template("admin/claim.html", estate=estate, building=building, unit=unit_row, estates=estates,
                           mine=services.my_claims(current_user), values=request.form), status
