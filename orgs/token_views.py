"""The personal API tokens page: list, create (the secret is shown once), revoke.
The work is done by orgs.tokens; these views are thin."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from core.errors import ValidationError
from orgs import tokens

bp = Blueprint("tokens", __name__)


class TokenForm(FlaskForm):
    name = StringField(
        _l("What the token is for"),
        validators=[DataRequired(_l("Give the token a name.")), Length(max=tokens.NAME_LENGTH)],
    )


def _page(form: TokenForm, secret: str | None = None, status: int = 200):
    body = render_template(
        "orgs/tokens.html",
        form=form,
        tokens=tokens.list_tokens(current_user),
        secret=secret,
    )
    # The page may carry a secret shown once: never keep it in a cache.
    return body, status, {"Cache-Control": "no-store"}


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens_page():
    form = TokenForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        _row, secret = tokens.create(current_user, form.name.data)
    except ValidationError as err:
        form.name.errors = [err.message]
        return _page(form, status=err.status)
    return _page(TokenForm(formdata=None), secret=secret)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    """The CSRF token is checked for every POST by CSRFProtect."""
    row = tokens.revoke(current_user, token_id)
    flash(_("Token “%(name)s” has been revoked.", name=row.name), "info")
    return redirect(url_for("tokens.tokens_page"))
