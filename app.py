"""Application factory: create_app(config=None) builds the app in named steps."""
from __future__ import annotations

import importlib
import os

from flask import Flask, current_app, has_request_context, jsonify, make_response, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from core import config as settings
from core.db import configure_engine, is_busy
from core.errors import DomainError
from core.extensions import babel, csrf, db, login_manager, migrate
from core.nav import add_nav, nav_items
from rules import policy

HERE = os.path.dirname(os.path.abspath(__file__))


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, template_folder="templates", static_folder="static")
    configure(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_template_helpers(app)
    return app


def configure(app: Flask, config: dict | None) -> None:
    app.config.from_object(settings.Defaults)
    app.config.update(settings.from_environment(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if config:
        app.config.update(config)
    settings.finalise(app.config, app.instance_path)
    policy.check_configured(app)
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


MODEL_MODULES = (
    "orgs.models", "workflow.audit", "issues.models", "procedures.voting", "procedures.notice", "procedures.consultation",
    "dispatch.models",
    "conventions.models",
    "documents.models", "acceptance.models",
)
API_MODULES: tuple[str, ...] = ("issues.api", "conventions.api", "procedures.api", "dispatch.api")
# Modules that add demo data loaders (orgs.demo.add_loader) run after the org tree.
DEMO_MODULES = ("issues.demo", "conventions.demo", "acceptance.demo")


def register_extensions(app: Flask) -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
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

    from orgs.auth import load_user, load_user_from_request

    login_manager.user_loader(load_user)
    login_manager.request_loader(load_user_from_request)


def register_blueprints(app: Flask) -> None:
    from conventions.public import bp as public_conventions_bp
    from conventions.views import bp as conventions_bp
    from documents.views import api_bp as documents_api_bp
    from documents.views import bp as documents_bp
    from orgs.auth import bp as auth_bp
    from orgs.permissions import is_staff
    from orgs.roster_views import bp as roster_bp
    from orgs.token_views import bp as tokens_bp
    from orgs.views import bp as orgs_bp
    from acceptance.views import bp as acceptance_bp
    from issues.views import bp as issues_bp
    from dispatch.views import bp as dispatch_bp
    from procedures.views import bp as procedures_bp

    from core.api import api

    # Modules that add routes to the API blueprint must be imported before it is registered.
    for module in API_MODULES:
        importlib.import_module(module)
    app.register_blueprint(auth_bp)
    app.register_blueprint(orgs_bp)
    app.register_blueprint(roster_bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(issues_bp)
    app.register_blueprint(dispatch_bp)
    app.register_blueprint(procedures_bp)
    app.register_blueprint(conventions_bp)
    app.register_blueprint(public_conventions_bp)
    app.register_blueprint(acceptance_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(documents_api_bp)
    app.register_blueprint(api)
    add_nav(app, "issues.worklist", _l("Issues"), 10, lambda user: user.is_authenticated)
    add_nav(app, "procedures.vote_list", _l("Votes"), 15, lambda user: user.is_authenticated)
    add_nav(app, "issues.diagram", _l("How an issue moves"), 90)
    add_nav(app, "orgs.tree_root", _l("Org tree"), 20, is_staff)
    add_nav(app, "conventions.index", _l("Drafting conventions"), 40, lambda user: user.is_authenticated)
    add_nav(app, "public.index", _l("Conventions"), 60)
    add_nav(app, "documents.verify_page", _l("Verify a document"), 70)
    add_nav(app, "tokens.tokens_page", _l("API tokens"), 95, is_staff)


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
        return error_response(status, "http_%d" % status, messages.get(status, err.description or ""))

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


def register_commands(app: Flask) -> None:
    from conventions.cli import register as register_conventions_cli
    from documents.cli import register as register_documents_cli
    from orgs.cli import register as register_orgs_cli
    from workflow.cli import register as register_workflow_cli

    register_orgs_cli(app)
    register_workflow_cli(app)
    register_conventions_cli(app)
    register_documents_cli(app)
    for module in DEMO_MODULES:
        importlib.import_module(module)


def register_template_helpers(app: Flask) -> None:
    from datetime import timezone

    from flask_babel import format_datetime, get_locale

    from orgs import permissions, roles

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

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'",
        )
        return response
