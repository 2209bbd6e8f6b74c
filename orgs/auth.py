"""Log in, log out, change password, choose the language."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from core.api import bearer_token
from core.errors import DomainError
from core.extensions import db
from orgs import services, tokens
from orgs.models import Person

bp = Blueprint("auth", __name__)


def load_user(user_id: str) -> Person | None:
    """Flask-Login loader: the id carries the session epoch, so a password change
    ends every other session and remember-me cookie; a deactivated account has none."""
    try:
        person_id, epoch = (int(part) for part in user_id.split(":", 1))
    except ValueError:
        return None
    person = db.session.get(Person, person_id)
    if person is None or person.session_epoch != epoch or not person.active:
        return None
    return person


def load_user_from_request(req) -> Person | None:
    """Flask-Login request loader: a personal API token sent as Authorization: Bearer
    (API paths only; the token is looked up by its SHA-256, see orgs.tokens)."""
    if not req.path.startswith("/api/"):
        return None
    token = bearer_token()
    if not token:
        return None
    return tokens.authenticate(token)


class LoginForm(FlaskForm):
    login = StringField(_l("Account name or phone"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired()])


def _safe_next(target: str | None) -> str:
    if target and target.isprintable():  # no CR/LF or other control characters in a Location header
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("orgs.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("orgs.home"))
    form = LoginForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                person = services.authenticate(form.login.data, form.password.data, request.remote_addr)
            except DomainError as err:
                flash(err.message, "error")
                status = err.status
            else:
                session.clear()
                login_user(person, remember=form.remember.data)
                session.permanent = True
                return redirect(_safe_next(request.args.get("next")))
        else:
            flash(_("Please enter your account name and password."), "error")
            status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends the session everywhere: a copied session or remember-me cookie stops working."""
    if current_user.is_authenticated:
        services.end_sessions(current_user.id)
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.change_password(current_user, form.current.data, form.new.data, form.confirm.data)
            except DomainError as err:
                flash(err.message, "error")
                status = err.status
            else:
                person = db.session.get(Person, current_user.id)
                login_user(person)
                flash(_("Your password has been changed. Other devices have been logged out."), "info")
                return redirect(url_for("orgs.home"))
        else:
            flash(_("Please fill in every field."), "error")
            status = 422
    return render_template("auth/password.html", form=form), status


@bp.route("/language", methods=["POST"])
def set_language():
    code = request.form.get("locale", "")
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
    return redirect(_safe_next(request.form.get("next")))
