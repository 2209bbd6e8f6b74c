"""Checklist templates for joint acceptance (联合验收), per category and sub-category.

An inspection's items are the common items, then those of the issue's category, then
those of its sub-category (rules/categories.py, in the city's policy). Items are stored by code and shown in the reader's language.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from rules.categories import Subcategory

COMMON = {
    "common.scope": _l("The work done matches the approved plan and its scope"),
    "common.site": _l("The site is cleared and the common areas are restored"),
    "common.safety": _l("No safety hazards remain (open edges, holes, temporary wiring)"),
    "common.documents": _l("As-built drawings, material certificates and the warranty are handed over"),
}

BY_CATEGORY = {
    "basic": {"basic.materials": _l("Materials and equipment carry quality certificates and were checked on arrival")},
    "improvement": {"improvement.trial": _l("The new facility works as designed in a trial run")},
    "upgrade": {"upgrade.premises": _l("The premises pass the fire safety and hygiene checks")},
}


def template(category: str, subcategory: Subcategory | None) -> list[str]:
    """Item codes for an inspection of work in this category and sub-category."""
    return [*COMMON, *specific(category, subcategory)]


def specific(category: str, subcategory: Subcategory | None) -> list[str]:
    """The category and sub-category items only (a plan lists them per issue)."""
    return [*BY_CATEGORY.get(category, {}), *(subcategory.checklist if subcategory is not None else {})]


def labels(subcategories) -> dict[str, object]:
    """Every item's words: the common and category items and the sub-categories' own."""
    found: dict[str, object] = {**COMMON}
    for group in BY_CATEGORY.values():
        found.update(group)
    for subcategory in subcategories:
        found.update(subcategory.checklist)
    return found
