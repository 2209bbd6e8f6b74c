"""Staff pages for conventions: the list, a new convention, a convention with its
versions, and a version with its text, comments, engine-decided actions and timeline.
Residents of the scope use the same version page to comment during consultation."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from conventions import ballot as ballots
from conventions import filters, services
from conventions.labels import KIND_LABELS, SCOPE_LABELS
from conventions.models import ConventionVersion
from conventions.workflow import OPEN_STATES, WORKFLOW
from core.errors import DomainError
from core.extensions import db
from core.web import flash_error
from orgs import permissions
from orgs.models import Building, Estate, OrgNode
from workflow import timeline

bp = Blueprint("conventions", __name__, url_prefix="/manage/conventions")
filters.install(bp)

# Data a transition form may send (the engine decides which ones a transition needs).
TRANSITION_DATA = (
    "reason", "entitled_heads", "agree_heads", "disagree_heads", "abstain_heads", "entitled_area", "agree_area",
    "disagree_area", "abstain_area", "vote_date", "vote_reference", "filing_number", "filing_date", "effective_date",
)


class NewConventionForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[], validators=[DataRequired()])
    scope = SelectField(_l("Applies to"), choices=[], validators=[DataRequired()])
    title = StringField(_l("Title (leave empty for the usual title)"), validators=[Optional(), Length(max=200)])
    use_draft = BooleanField(_l("Start from the starting draft of this kind"), default=True)


class TextForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    text = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=400000)])


class CommentForm(FlaskForm):
    article = HiddenField()
    text = TextAreaField(_l("Your comment"), validators=[DataRequired(), Length(max=2000)])


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=2000)])


class AmendForm(FlaskForm):
    change_note = TextAreaField(_l("What the amendment is about"), validators=[Optional(), Length(max=2000)])


class TransitionForm(FlaskForm):
    trigger = HiddenField(validators=[DataRequired()])
    version = IntegerField(validators=[DataRequired()])


def _scope_choices(person) -> list[tuple[str, str]]:
    """Communities, estates and buildings where the person may draft a convention."""
    choices: list[tuple[str, str]] = []
    community = permissions.jurisdiction_filter(person, OrgNode.path, "convention.draft")
    for node in db.session.scalars(select(OrgNode).where(community, OrgNode.level_code == "community_committee")
                                   .order_by(OrgNode.code).limit(200)):
        choices.append((f"community:{node.id}", _("%(name)s (whole community)", name=node.name)))
    for estate in db.session.scalars(select(Estate).where(permissions.jurisdiction_filter(
            person, Estate.path, "convention.draft")).order_by(Estate.code).limit(500)):
        choices.append((f"estate:{estate.id}", estate.name))
    for building in db.session.scalars(select(Building).where(permissions.jurisdiction_filter(
            person, Building.path, "convention.draft")).order_by(Building.estate_id, Building.sort_key).limit(2000)):
        choices.append((f"building:{building.id}", f"{building.estate.name} {building.number}"))
    return choices


@bp.route("/")
@login_required
def index():
    return render_template(
        "conventions/index.html",
        conventions=services.staff_conventions(current_user),
        consultations=services.consultations_for(current_user),
        may_draft=permissions.can(current_user, "convention.draft"),
        kind_labels=KIND_LABELS, states=WORKFLOW.states,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    permissions.require(current_user, "convention.draft")
    form = NewConventionForm()
    form.kind.choices = [(code, str(label)) for code, label in KIND_LABELS.items()]
    form.scope.choices = _scope_choices(current_user)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            scope_kind, _sep, scope_id = form.scope.data.partition(":")
            try:
                version = services.create_convention(
                    current_user, kind=form.kind.data, scope_kind=scope_kind, scope_id=scope_id,
                    title=form.title.data or "", use_draft=form.use_draft.data,
                )
            except DomainError as err:
                flash_error(err)
                status = err.status
            else:
                flash(_("The draft has been created."), "info")
                return redirect(url_for("conventions.version_page", version_id=version.id))
        else:
            flash(_("Some information is missing or invalid."), "error")
            status = 422
    return render_template("conventions/new.html", form=form), status


@bp.route("/<int:convention_id>")
@login_required
def convention_page(convention_id: int):
    return _render_convention(convention_id)


def _render_convention(convention_id: int, status: int = 200):
    convention, versions = services.get_convention(current_user, convention_id)
    may_amend = permissions.can(current_user, "convention.draft", versions[-1]) and not any(
        v.state in OPEN_STATES for v in convention.versions
    )
    return render_template(
        "conventions/convention.html", convention=convention, versions=versions, may_amend=may_amend,
        form=AmendForm(), kind_labels=KIND_LABELS, scope_labels=SCOPE_LABELS, states=WORKFLOW.states,
    ), status


@bp.route("/<int:convention_id>/amend", methods=["POST"])
@login_required
def amend(convention_id: int):
    form = AmendForm()
    if not form.validate_on_submit():
        flash(_("Some information is missing or invalid."), "error")
        return _render_convention(convention_id, 422)
    try:
        version = services.amend(current_user, convention_id, form.change_note.data or "")
    except DomainError as err:
        db.session.rollback()
        flash_error(err)
        return _render_convention(convention_id, err.status)
    flash(_("Version %(number)d has been started as a draft.", number=version.number), "info")
    return redirect(url_for("conventions.version_page", version_id=version.id))


def _render_version(version: ConventionVersion, status: int = 200, text_form: TextForm | None = None):
    actions = WORKFLOW.available(version, current_user)
    vote_defaults = services.vote_form_defaults(version) if any(t.trigger == "record_vote" for t in actions) else None
    text_form = text_form or TextForm(data={"version": version.version, "text": services.plain_text(version)})
    return render_template(
        "conventions/version.html",
        version=version, convention=version.convention, state=WORKFLOW.state(version.state),
        actions=actions, vote_defaults=vote_defaults, timeline=timeline.rows(version),
        text_form=text_form, comment_form=CommentForm(), answer_form=AnswerForm(),
        transition_form=TransitionForm(),
        ballot=ballots.current_ballot(version) if version.state == "voting" else None,
        may_edit=version.state == "draft" and permissions.can(current_user, "convention.draft", version),
        may_comment=version.state == "consultation" and permissions.can(current_user, "convention.comment", version),
        may_answer=version.state == "consultation" and permissions.can(current_user, "convention.answer", version),
        comments_by_article=_comments_by_article(version),
        kind_labels=KIND_LABELS, scope_labels=SCOPE_LABELS,
    ), status


def _comments_by_article(version: ConventionVersion) -> dict:
    grouped: dict = {}
    for comment in version.comments:
        key = comment.article_id if comment.article_id is not None else ("n", comment.article_number)
        grouped.setdefault(key, []).append(comment)
    return grouped


def _back(version_id: int, anchor: str | None = None):
    return redirect(url_for("conventions.version_page", version_id=version_id, _anchor=anchor))


def _failed(version_id: int, err: DomainError):
    db.session.rollback()
    flash_error(err)
    return _render_version(services.get_version(current_user, version_id), err.status)


@bp.route("/versions/<int:version_id>")
@login_required
def version_page(version_id: int):
    return _render_version(services.get_version(current_user, version_id))


@bp.route("/versions/<int:version_id>/text", methods=["POST"])
@login_required
def edit_text(version_id: int):
    services.get_version(current_user, version_id)
    form = TextForm()
    if not form.validate_on_submit():
        flash(_("Some information is missing or invalid."), "error")
        return _render_version(services.get_version(current_user, version_id), 422)
    try:
        services.replace_text(current_user, version_id, form.version.data, form.text.data)
    except DomainError as err:
        db.session.rollback()
        flash_error(err)
        return _render_version(services.get_version(current_user, version_id), err.status, TextForm())
    flash(_("The text has been saved; the articles are numbered automatically."), "info")
    return _back(version_id)


@bp.route("/versions/<int:version_id>/transitions", methods=["POST"])
@login_required
def transition(version_id: int):
    services.get_version(current_user, version_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        flash(_("Some information is missing or invalid."), "error")
        return _render_version(services.get_version(current_user, version_id), 422)
    data = {name: request.form[name] for name in TRANSITION_DATA if request.form.get(name, "").strip()}
    try:
        services.fire_version(current_user, version_id, form.trigger.data, form.version.data, **data)
    except DomainError as err:
        return _failed(version_id, err)
    flash(_("Done: %(action)s.", action=WORKFLOW.transition_label(form.trigger.data)), "info")
    return _back(version_id)


@bp.route("/versions/<int:version_id>/comments", methods=["POST"])
@login_required
def comment(version_id: int):
    services.get_version(current_user, version_id)
    form = CommentForm()
    if not form.validate_on_submit():
        flash(_("Write your comment (at most %(n)d characters).", n=2000), "error")
        return _render_version(services.get_version(current_user, version_id), 422)
    try:
        number = int(form.article.data) if form.article.data else None
    except ValueError:
        number = None
    try:
        services.add_comment(current_user, version_id, number, form.text.data)
    except DomainError as err:
        return _failed(version_id, err)
    flash(_("Thank you: your comment has been recorded and the drafters will answer it."), "info")
    return _back(version_id, f"article-{number}" if number else "comments")


@bp.route("/comments/<int:comment_id>/answer", methods=["POST"])
@login_required
def answer(comment_id: int):
    version_id = services.get_comment(current_user, comment_id).version_id
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("Write the answer (at most %(n)d characters).", n=2000), "error")
        return _render_version(services.get_version(current_user, version_id), 422)
    try:
        services.answer_comment(current_user, comment_id, form.answer.data)
    except DomainError as err:
        return _failed(version_id, err)
    flash(_("The answer has been recorded."), "info")
    return _back(version_id, f"comment-{comment_id}")


@bp.route("/versions/<int:version_id>/diff")
@login_required
def diff(version_id: int):
    against = request.args.get("against", type=int)
    old, new = services.staff_diff(current_user, version_id, against)
    return render_template(
        "conventions/diff.html", old=old, new=new, convention=new.convention,
        result=services.version_diff(old, new), back_url=url_for("conventions.version_page", version_id=new.id),
    )


@bp.route("/versions/<int:version_id>/text.txt")
@login_required
def text_file(version_id: int):
    version = services.get_version(current_user, version_id)
    body = f"# {version.convention.title}\n\n" + services.plain_text(version)
    return Response(body, mimetype="text/plain; charset=utf-8")
