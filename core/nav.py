"""Main navigation: each package adds its own entries when its blueprint is registered."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask, current_app, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # lazy string
    order: int
    visible: Callable[[object], bool]


def add_nav(app: Flask, endpoint: str, label, order: int = 50, visible: Callable[[object], bool] | None = None) -> None:
    items = app.extensions.setdefault("wuji_nav", [])
    items.append(NavItem(endpoint, label, order, visible or (lambda user: True)))
    items.sort(key=lambda item: item.order)


def nav_items() -> list[dict]:
    return [
        {"url": url_for(item.endpoint), "label": str(item.label)}
        for item in current_app.extensions.get("wuji_nav", [])
        if item.visible(current_user)
    ]


def add_home_panel(app: Flask, render: Callable[[object], object], order: int = 50) -> None:
    """A card on the signed-in home page: `render(person)` returns its HTML (Markup) or
    None when it has nothing for that person. Packages add their own (quick report,
    items to rate, conventions in force) without the home page knowing them."""
    panels = app.extensions.setdefault("wuji_home_panel_list", [])
    panels.append((order, render))
    panels.sort(key=lambda pair: pair[0])
    app.extensions["wuji_home_panels"] = [render for _order, render in panels]
