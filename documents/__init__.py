"""Document machinery: PDF rendering, key management, PAdES signing and verification.

Acceptance records and conventions build on them. Modules: ``pdf`` (HTML to PDF), ``pki`` (certificate authority, keys,
PKCS#12 import), ``signing`` (PAdES signatures), ``verify`` (verification reports).
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.nav import add_nav
from documents import cli, models, views  # noqa: F401 - models: tables


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(views.api_bp)
    add_nav(app, "documents.verify_page", _l("Verify a document"), 70)
    cli.register(app)
