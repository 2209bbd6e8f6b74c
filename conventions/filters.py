"""Template filters used by the convention pages (installed by both blueprints)."""
from __future__ import annotations

from flask import Blueprint
import re

from markupsafe import Markup, escape

from conventions import diff, synonyms
from conventions.numerals import article_label
from rules import tally


def rule_title(name: str) -> str:
    try:
        return str(tally.get_rule(name).title)
    except tally.UnknownRule:
        return name


def diff_html(pieces) -> Markup:
    return diff.to_html(pieces)


def highlight(text: str, query: str) -> Markup:
    """The text, escaped, with every occurrence of the query's words marked."""
    words = sorted({v for w in query.split() if w for v in synonyms.variants(w)}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    parts: list[Markup] = []
    position = 0
    for match in pattern.finditer(text):
        parts.append(escape(text[position:match.start()]))
        parts.append(Markup("<mark>%s</mark>") % match.group(0))
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def install(bp: Blueprint) -> None:
    bp.add_app_template_filter(article_label, "article_label")
    bp.add_app_template_filter(rule_title, "rule_title")
    bp.add_app_template_filter(diff_html, "diff_html")
    bp.add_app_template_filter(highlight, "highlight")
