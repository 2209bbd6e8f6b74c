"""Application factory: create_app(config=None) builds the app in named steps."""
from __future__ import annotations

import os
from datetime import timezone

from flask import Flask, current_app, has_request_context, jsonify, make_response, render_template, request, session
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import acceptance
import admin
import aftercare
import conventions
import dispatch
import documents
import issues
import notify
import orgs
import plans
import procedures
import taskforce
import stats
import workflow
from core import config as settings
from core import inputs
from core.api import api
from core.db import configure_engine, is_busy
from core.errors import DomainError
from core.extensions import babel, csrf, db, login_manager, migrate
from core.nav import nav_items
from orgs import permissions, roles
from rules import policy

HERE = os.path.dirname(os.path.abspath(__file__))


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, instance_path=os.environ.get("WUJI_INSTANCE_PATH") or None,
                template_folder="templates", static_folder="static")
    configure(app, config)
    register_extensions(app)
    register_packages(app)
    register_error_handlers(app)
    register_template_helpers(app)
    return app


def configure(app: Flask, config: dict | None) -> None:
    app.config.from_object(settings.Defaults)
    app.config.update(settings.from_environment(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if config:
        app.config.update(config)
    settings.finalise(app.config, app.instance_path)
    policy.configure(app)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]


def select_locale() -> str:
    """The language chosen in this session, else the person's saved one, else the default.

    Chinese is the default even for browsers that ask for English first: the
    English interface is chosen explicitly (link in the footer).
    """
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen is None and getattr(current_user, "is_authenticated", False):
        chosen = current_user.locale
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


# The packages, in the order they are set up: each registers its own blueprints, API routes,
# CLI, navigation entries, demo data loader (run in this order) and deadline sweep step.
PACKAGES = (orgs, workflow, procedures, dispatch, issues, conventions, acceptance, plans, documents, taskforce,
            aftercare, stats, notify, admin)


def register_extensions(app: Flask) -> None:
    inputs.init_app(app)  # before any route is added: the bounded id converter
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["DB_LOCK_TIMEOUT_MS"])
    migrate.init_app(app, db, directory=os.path.join(HERE, "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=os.path.join(HERE, "translations"),
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.login_message = None


def register_packages(app: Flask) -> None:
    for package in PACKAGES:
        package.init_app(app)
    # Every package has added its routes to the API blueprint by now.
    app.register_blueprint(api)


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, code: str, message: str, details: dict | None = None):
    if _wants_json():
        body = {"error": code, "message": message}
        if details:
            body.update(details)
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message, details=details or {}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        db.session.rollback()
        return error_response(err.status, err.code, err.message, err.details)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        db.session.rollback()
        return error_response(
            400, "csrf", _("The form has expired or was not sent from this site. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        db.session.rollback()
        messages = {
            400: _("The request could not be understood."),
            401: _("Please log in first."),
            403: _("You are not permitted to do this."),
            404: _("Not found."),
            405: _("This action is not allowed here."),
            413: _("The uploaded file is too large."),
            429: _("Too many attempts. Please wait and try again."),
        }
        status = err.code or 500
        response = make_response(error_response(status, "http_%d" % status, messages.get(status, err.description or "")))
        for name, value in err.get_headers():
            if name.lower() != "content-type":  # e.g. Allow on a 405, WWW-Authenticate
                response.headers[name] = value
        return response

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _out_of_range(err: Exception):
        """A value the database cannot hold (an id past the column's range typed into a form)."""
        db.session.rollback()
        return error_response(400, "out_of_range", _("A value in the request is out of range."))

    @app.errorhandler(OperationalError)
    def _database(err: OperationalError):
        db.session.rollback()
        if not is_busy(err):
            app.logger.exception("database error")
            return error_response(500, "server_error", _("Something went wrong on our side. Nothing was saved."))
        app.logger.warning("database busy: %s", err.orig)
        response = make_response(error_response(
            503, "busy", _("The system is busy right now. Nothing was saved: please try again in a moment.")))
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def _server(err: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        return error_response(500, "server_error", _("Something went wrong on our side. Nothing was saved."))


def register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def _helpers():
        return {
            "can": lambda action, obj=None: permissions.can(current_user, action, obj),
            "nav_items": nav_items,
            "role_label": roles.role_label,
            "level_label": roles.level_label,
            "current_locale": str(get_locale()),
        }

    @app.template_filter("datetime")
    def _datetime(value, fmt="yyyy-MM-dd HH:mm"):
        if value is None:
            return ""
        return format_datetime(value.replace(tzinfo=timezone.utc), fmt)

    @app.route("/favicon.ico")
    def _favicon():
        """Browsers ask for /favicon.ico whatever the page says: the same icon."""
        return app.send_static_file("favicon.svg")

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=(), payment=(), usb=()")
        if app.config.get("ENV_NAME") == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'",
        )
        return response
