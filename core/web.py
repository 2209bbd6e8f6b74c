"""Small helpers shared by the HTML views."""
from __future__ import annotations

from flask import flash

from core.errors import DomainError


def flash_error(err: DomainError) -> None:
    """Show a domain error and the per-field messages it carries."""
    flash(err.message, "error")
    for message in (err.details.get("fields") or {}).values():
        if str(message) != err.message:
            flash(message, "error")
