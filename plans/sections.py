"""Sections other packages add to the estate plan page, without editing its templates.

A package (the task force's meetings and minutes, management after acceptance...)
registers a section once in its `init_app`:

    from plans import sections
    sections.add_section(app, "meetings", render_meetings, order=40, public=True)

`render(plan, viewer, public)` is called for each page view with the `EstatePlan`,
the person viewing (an anonymous user on the public page) and whether the public
(residents') view is being drawn. It returns HTML (a `Markup`, e.g. the result of
`render_template(...)` of the package's own template; plain text is escaped) or
None/"" to show nothing. A section registered with `public=False` only appears on the
staff page. Sections are drawn in `order` after the plan's own parts (items 10,
budget 20, bulletins 30, notices and votes 50 ...), each inside a
`<section class="card" id="section-NAME">`. A section that raises is left out and the
error logged: one package's fault never takes the plan page down.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, current_app
from markupsafe import Markup, escape


@dataclass(frozen=True)
class Section:
    name: str
    render: Callable[[Any, Any, bool], Any]
    order: int
    public: bool


def add_section(app: Flask, name: str, render: Callable[[Any, Any, bool], Any], order: int = 50,
                public: bool = True) -> None:
    """Register (or replace, by name) a section of the plan page."""
    found = [s for s in app.extensions.setdefault("wuji_plan_sections", []) if s.name != name]
    found.append(Section(name, render, order, public))
    found.sort(key=lambda s: (s.order, s.name))
    app.extensions["wuji_plan_sections"] = found


def registered() -> list[Section]:
    return list(current_app.extensions.get("wuji_plan_sections", []))


@dataclass(frozen=True)
class Rendered:
    name: str
    html: Markup


def render_all(plan, viewer, public: bool) -> list[Rendered]:
    """The sections to draw on this page, rendered, in order."""
    out = []
    for section in registered():
        if public and not section.public:
            continue
        try:
            html = section.render(plan, viewer, public)
        except Exception:  # noqa: BLE001 - one section's fault never takes the page down
            current_app.logger.exception("plan page section %s failed", section.name)
            continue
        if html:
            out.append(Rendered(section.name, html if isinstance(html, Markup) else escape(html)))
    return out
