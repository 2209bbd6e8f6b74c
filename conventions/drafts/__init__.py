"""Starting drafts, written for this project: 《小区居民公约》 and 《电动车棚建设和管理公约》.

Each draft is a plain-text convention (conventions/text.py) that drafters edit
before the consultation; 【本小区】 is replaced by the name of the convention's scope.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
DRAFTS = {
    "residents_convention": "residents_convention.md",
    "ebike_shed": "ebike_shed.md",
}
PLACEHOLDER = "【本小区】"


def available(kind: str) -> bool:
    return kind in DRAFTS


def load(kind: str, scope_label: str) -> str:
    """The starting draft for `kind`, addressed to the scope; KeyError for other kinds."""
    text = (HERE / DRAFTS[kind]).read_text(encoding="utf-8")
    return text.replace(PLACEHOLDER, scope_label)
