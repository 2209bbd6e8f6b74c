"""Pages for renovation issues: worklist, raising a demand, the issue page, the diagram."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.errors import DomainError, NotFound
from core.photos import from_files as photos_from
from core.web import flash_error
from core.extensions import db
from orgs import permissions
from orgs.models import Building, Estate, Household, LiaisonHousehold
from orgs.roles import LEVEL_LABELS, RESIDENT
from issues import satisfaction, services
from issues.models import RATING_STATES
from rules import categories
from workflow import timeline
from issues.renovation import DRAWING, WORKFLOW
from rules.calendar import LOCAL
from rules.policy import current_policy
from workflow.diagram import svg as diagram_svg

bp = Blueprint("issues", __name__)

class RaiseForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    # The category follows from the sub-category (grouped by category in one list); a form
    # that still sends both is checked for agreement by the service.
    category = SelectField(_l("Category"), choices=[], validators=[Optional()])
    subcategory = SelectField(_l("What kind of work"), choices=[], validators=[DataRequired()])
    place = SelectField(_l("Where"), choices=[], validators=[DataRequired()])
    location = StringField(_l("Exact spot (optional)"), validators=[Optional(), Length(max=200)])
    latitude = HiddenField(validators=[Optional(), Length(max=20)])
    longitude = HiddenField(validators=[Optional(), Length(max=20)])
    mode = SelectField(_l("Kind"), choices=[], default="demand")
    photos = MultipleFileField(_l("Photos (JPEG, PNG or WebP, at most 6)"))


class TransitionForm(FlaskForm):
    trigger = HiddenField(validators=[DataRequired()])
    version = IntegerField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    progress = IntegerField(_l("Progress (%)"), validators=[Optional(), NumberRange(0, 100)])
    merge_into = StringField(_l("Number of the issue to merge into"), validators=[Optional(), Length(max=20)])
    agreement_ref = StringField(_l("Mediation agreement number"), validators=[Optional(), Length(max=120)])
    judgment_ref = StringField(_l("Judgment number"), validators=[Optional(), Length(max=120)])
    satisfaction = SelectField(_l("Satisfaction"), choices=[], validators=[Optional()])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
    photos = MultipleFileField()
    household_id = StringField(validators=[Optional(), Length(max=20)])
    channel = StringField(validators=[Optional(), Length(max=20)])


def _is_resident_only(person) -> bool:
    return all(m.role == RESIDENT for m in person.memberships)


def place_choices(person) -> list[tuple[str, str]]:
    """Places the person may raise an issue about: their own and neighbour
    households, and for staff the estates and buildings of their jurisdiction."""
    choices: list[tuple[str, str]] = []
    households = {link.household for link in person.household_links}
    member_orgs = [m.org_id for m in person.memberships if m.role == "member_household"]
    if member_orgs:
        households |= set(db.session.scalars(
            select(Household).join(LiaisonHousehold, LiaisonHousehold.household_id == Household.id)
            .where(LiaisonHousehold.org_id.in_(member_orgs))
        ))
    for household in sorted(households, key=lambda h: (h.estate_id, h.path, h.sort_key, h.id)):
        choices.append((f"household:{household.id}", household.label))
    # The shared places of the person's own households: their stairwell, building, estate.
    shared: list[tuple[str, str]] = []
    for link in person.household_links:
        unit = link.household.unit
        building = unit.building
        for choice in ((f"unit:{unit.id}", _("%(building)s %(unit)s (stairwell, shared parts)",
                                             building=f"{building.estate.name} {building.number}", unit=unit.number)),
                       (f"building:{building.id}", _("%(building)s (whole building)",
                                                     building=f"{building.estate.name} {building.number}")),
                       (f"estate:{building.estate_id}", _("%(estate)s (public areas)", estate=building.estate.name))):
            if choice not in shared:
                shared.append(choice)
    choices.extend(shared)
    condition = permissions.jurisdiction_filter(person, Estate.path, "issue.raise")
    for estate in db.session.scalars(select(Estate).where(condition).order_by(Estate.code).limit(200)):
        choices.append((f"estate:{estate.id}", _("%(estate)s (whole estate)", estate=estate.name)))
    building_condition = permissions.jurisdiction_filter(person, Building.path, "issue.raise")
    buildings = db.session.scalars(
        select(Building).where(building_condition).order_by(Building.estate_id, Building.sort_key).limit(2000)
    )
    for building in buildings:
        choices.append((f"building:{building.id}", f"{building.estate.name} {building.number}"))
    return choices


def _title_from(description: str, limit: int = 30) -> str:
    first = description.strip().splitlines()[0].strip()
    return first if len(first) <= limit else first[:limit - 1] + "…"


def fill_raise_form(form: RaiseForm) -> None:
    form.category.choices = [(code, str(label)) for code, label in categories.CATEGORIES.items()]
    form.subcategory.choices = {
        str(label): [(sub.code, str(sub.label)) for sub in current_policy().subcategories_of(cat)]
        for cat, label in categories.CATEGORIES.items()
    }
    form.place.choices = place_choices(current_user)
    form.mode.choices = [("demand", str(_l("A demand from residents")))]
    if permissions.can(current_user, "issue.launch"):
        form.mode.choices.append(("task", str(_l("A plan item launched from above"))))


@bp.route("/issues/")
@login_required
def worklist():
    default_queue = "raised" if _is_resident_only(current_user) else "mine"
    queue = request.args.get("queue", default_queue)
    if queue not in ("mine", "all", "raised"):
        queue = default_queue
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    filters = services.IssueFilter(
        queue=queue,
        state=request.args.get("state") or None,
        category=request.args.get("category") or None,
        overdue=request.args.get("overdue") == "1",
        q=(request.args.get("q") or "").strip()[:100],
        page=page,
        per_page=30,
        **_dashboard_filters(),
    )
    issues, total = services.list_issues(current_user, filters)
    return render_template(
        "issues/worklist.html", issues=issues, total=total, filters=filters,
        states=WORKFLOW.states, categories=categories.CATEGORIES, is_overdue=services.is_overdue,
        pages=max(1, (total + filters.per_page - 1) // filters.per_page),
        resident_view=_is_resident_only(current_user),
    )


def _day(name: str) -> datetime | None:
    """A yyyy-mm-dd argument as the UTC start of that local day (400 if malformed)."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400)
    return datetime.combine(day, time(0), tzinfo=LOCAL).astimezone(timezone.utc).replace(tzinfo=None)


def _dashboard_filters() -> dict:
    """The filters the dashboard's figures link with: org node, level, raised from/to
    (local days, `to` included), outcome, rating, response (issues/measures.py)."""
    try:
        org_id = int(request.args.get("node") or 0) or None
    except ValueError:
        abort(400)
    until = _day("to")
    return {
        "org_id": org_id,
        "level": request.args.get("level") or None,
        "created_from": _day("from"),
        "created_to": until + timedelta(days=1) if until else None,
        "outcome": request.args.get("outcome") or None,
        "rating": request.args.get("rating") or None,
        "response": request.args.get("response") or None,
    }


@bp.route("/issues/new", methods=["GET", "POST"])
@login_required
def raise_issue():
    form = RaiseForm()
    fill_raise_form(form)
    if not form.place.choices:
        abort(404)
    status = 200
    if request.method == "POST":
        if not (form.title.data or "").strip() and (form.description.data or "").strip():
            # The home page's one-tap report sends no title: the first words serve.
            form.title.data = _title_from(form.description.data)
        if form.validate_on_submit():
            kind, _sep, ident = form.place.data.partition(":")
            fields = dict(
                title=form.title.data, description=form.description.data,
                category=form.category.data or current_policy().category_of(form.subcategory.data),
                subcategory=form.subcategory.data, place_kind=kind, place_id=ident,
            )
            try:
                fields["spot"] = services.Spot.parse(form.location.data, form.latitude.data, form.longitude.data)
                if form.mode.data == "task":
                    issue = services.launch_task(current_user, **fields)
                else:
                    issue = services.raise_issue(current_user, photos=photos_from(form.photos.data), **fields)
            except DomainError as err:
                flash_error(err)
                for name, message in err.details.get("fields", {}).items():
                    if hasattr(form, name):
                        getattr(form, name).errors = [message]
                status = err.status
            else:
                flash(_("Issue %(id)d has been raised.", id=issue.id), "info")
                return redirect(url_for("issues.issue_page", issue_id=issue.id))
        else:
            flash(_("Some information is missing or invalid."), "error")
            status = 422
    return render_template("issues/raise.html", form=form), status


def _render_issue(issue, form: TransitionForm | None = None, status: int = 200):
    form = form or TransitionForm()
    form.satisfaction.choices = [(str(n), str(n)) for n in range(5, 0, -1)]
    state = WORKFLOW.state(issue.state)
    actions = WORKFLOW.available(issue, current_user)
    staff = permissions.is_staff(current_user)
    return render_template(
        "issues/issue.html",
        survey=satisfaction.summary(issue) if staff and issue.state in RATING_STATES else None,
        responses=satisfaction.responses(issue) if staff else [],
        rating_households=(satisfaction.households_to_enter(current_user, issue)
                           if any(t.trigger == "record_rating" for t in actions) else []),
        channel_labels=satisfaction.CHANNEL_LABELS,
        may_add_photos=services.may_add_photos(current_user, issue),
        issue=issue,
        state=state,
        level_label=LEVEL_LABELS.get(state.level) if state.level else None,
        actions=actions,
        timeline=timeline.rows(issue),
        form=form,
        overdue=services.is_overdue(issue),
        resident_view=_is_resident_only(current_user),
        category_label=categories.CATEGORIES.get(issue.category, issue.category),
        subcategory_label=current_policy().subcategory_label(issue.subcategory),
    ), status


@bp.route("/issues/<int:issue_id>")
@login_required
def issue_page(issue_id: int):
    return _render_issue(services.get_issue(current_user, issue_id))


@bp.route("/issues/<int:issue_id>/transitions", methods=["POST"])
@login_required
def transition(issue_id: int):
    issue = services.get_issue(current_user, issue_id)
    form = TransitionForm()
    form.satisfaction.choices = [(str(n), str(n)) for n in range(1, 6)]
    if not form.validate_on_submit():
        flash(_("Some information is missing or invalid."), "error")
        return _render_issue(issue, form, 422)
    data = {
        name: getattr(form, name).data
        for name in ("reason", "progress", "merge_into", "agreement_ref", "judgment_ref", "satisfaction", "comment",
                     "household_id", "channel")
        if getattr(form, name).data not in (None, "")
    }
    if form.trigger.data == "report_progress":
        data["photos"] = photos_from(form.photos.data)
    try:
        services.fire_issue(current_user, issue_id, form.trigger.data, form.version.data, **data)
    except DomainError as err:
        db.session.rollback()
        flash_error(err)
        return _render_issue(services.get_issue(current_user, issue_id), form, err.status)
    flash(_("Done: %(action)s.", action=WORKFLOW.transition_label(form.trigger.data)), "info")
    return redirect(url_for("issues.issue_page", issue_id=issue_id))


@bp.route("/issues/<int:issue_id>/photos", methods=["POST"])
@login_required
def add_photos(issue_id: int):
    form = FlaskForm()
    if not form.validate_on_submit():
        flash(_("Some information is missing or invalid."), "error")
        return _render_issue(services.get_issue(current_user, issue_id), status=400)
    try:
        services.add_photos(current_user, issue_id, photos_from(request.files.getlist("photos")))
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db.session.rollback()
        flash_error(err)
        return _render_issue(services.get_issue(current_user, issue_id), status=err.status)
    flash(_("The photos have been added."), "info")
    return redirect(url_for("issues.issue_page", issue_id=issue_id))


@bp.route("/issues/<int:issue_id>/photos/<int:photo_id>")
@login_required
def photo(issue_id: int, photo_id: int):
    item, data = services.photo(current_user, issue_id, photo_id)
    return Response(data, mimetype=item.content_type, headers={"Cache-Control": "private, max-age=86400"})


@bp.route("/help/workflow")
def diagram():
    return render_template(
        "issues/diagram.html",
        svg=diagram_svg(DRAWING, str(get_locale())),
        states=WORKFLOW.states.values(),
        deadlines=current_policy().deadlines.get(WORKFLOW.name, {}),
        level_labels=LEVEL_LABELS,
    )
