"""The inbox (/inbox), marking read, and the preferences form (/inbox/preferences).
Thin: the work is done by notify.services."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from core.errors import ValidationError
from notify import services
from notify.messages import words
from notify.models import DELIVERIES, KINDS

bp = Blueprint("notify", __name__)
PER_PAGE = 30


class PreferencesForm(FlaskForm):
    email = StringField(_l("Email address"), validators=[Optional(), Length(max=services.EMAIL_MAX)])


def preferences_form(data=None) -> PreferencesForm:
    """The form with one choice per kind of notification."""
    fields = {kind: SelectField(label, choices=[(code, str(text)) for code, text in DELIVERIES.items()])
              for kind, label in KINDS.items()}
    form_class = type("KindPreferencesForm", (PreferencesForm,), fields)
    return form_class(formdata=data)


class MarkForm(FlaskForm):
    """The CSRF token of the mark-read buttons (CSRFProtect checks every POST)."""


def _page_arg() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


@bp.route("/inbox")
@login_required
def inbox_page():
    page = _page_arg()
    unread_only = request.args.get("unread") == "1"
    rows, total = services.inbox(current_user, page=page, per_page=PER_PAGE, unread_only=unread_only)
    return render_template(
        "notify/inbox.html", items=[(n, words(n)) for n in rows], total=total, page=page,
        pages=max(1, (total + PER_PAGE - 1) // PER_PAGE), unread_only=unread_only, form=MarkForm(),
        unread=services.unread_count(current_user),
    )


@bp.route("/inbox/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    notification = services.mark_read(current_user, notification_id)
    if request.form.get("open") == "1":
        target = words(notification).url
        if target:
            return redirect(target)
    return redirect(url_for("notify.inbox_page"))


@bp.route("/inbox/read-all", methods=["POST"])
@login_required
def mark_all_read():
    count = services.mark_all_read(current_user)
    flash(_("%(n)d notifications marked read.", n=count), "success")
    return redirect(url_for("notify.inbox_page"))


@bp.route("/inbox/preferences", methods=["GET", "POST"])
@login_required
def preferences_page():
    form = preferences_form(request.form if request.method == "POST" else None)
    if request.method == "GET":
        current = services.preferences(current_user)
        form.email.data = current.email
        for kind, delivery in current.deliveries.items():
            getattr(form, kind).data = delivery
    elif form.validate_on_submit():
        try:
            services.save_preferences(current_user, {kind: getattr(form, kind).data for kind in KINDS},
                                      form.email.data)
        except ValidationError as err:
            for name, message in (err.details.get("fields") or {}).items():
                getattr(form, name).errors = [message]
        else:
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("notify.preferences_page"))
    return render_template("notify/preferences.html", form=form, kinds=KINDS)
