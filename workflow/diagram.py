"""Workflow diagrams generated from the definition (Graphviz dot → SVG), never drawn by hand."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass, field

from flask import Flask
from flask_babel import force_locale

from orgs.roles import LEVELS
from workflow.engine import Workflow

LEVEL_COLOURS = {level.code: level.colour for level in LEVELS}


@dataclass(frozen=True)
class Drawing:
    """How one workflow is drawn: states coloured by the level responsible."""

    workflow: Workflow
    fills: dict[str, str] = field(default_factory=dict)  # state name -> colour, over the level's
    # Where a transition is declared from more states than it is really taken from (to word
    # the refusal when tried too early), the sources to draw.
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()  # triggers not drawn
    loops: bool = True  # draw transitions that stay in their state


def _quote(text: object) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_source(drawing: Drawing, locale: str = "zh_Hans_CN") -> str:
    workflow = drawing.workflow
    with force_locale(locale):
        lines = [
            f"digraph {workflow.name} {{",
            '  graph [rankdir=TB, fontname="Noto Sans CJK SC", nodesep=0.3, ranksep=0.45];',
            '  node [shape=box, style="rounded,filled", fontname="Noto Sans CJK SC", fontsize=11];',
            '  edge [fontname="Noto Sans CJK SC", fontsize=9, color="#777777"];',
        ]
        for state in workflow.states.values():
            colour = drawing.fills.get(state.name) or LEVEL_COLOURS.get(state.level or "", "#eeeeee")
            shape = ", peripheries=2" if state.terminal else ""
            lines.append(f"  {state.name} [label={_quote(state.label)}, fillcolor={_quote(colour)}{shape}];")
        seen: set[tuple[str, str, str]] = set()
        for t in workflow.transitions:
            if t.trigger in drawing.hidden:
                continue
            for source in drawing.sources.get(t.trigger, t.source):
                key = (source, t.dest, t.trigger)
                if key in seen or (source == t.dest and not drawing.loops):
                    continue
                seen.add(key)
                lines.append(f"  {source} -> {t.dest} [label={_quote(t.label)}];")
        lines.append("}")
    return "\n".join(lines)


_SVG: dict[tuple[str, str], str] = {}


def svg(drawing: Drawing, locale: str = "zh_Hans_CN") -> str:
    """The diagram as SVG, made once per workflow and language."""
    key = (drawing.workflow.name, locale)
    if key not in _SVG:
        result = subprocess.run(["dot", "-Tsvg"], input=dot_source(drawing, locale).encode("utf-8"),
                                capture_output=True, check=True, timeout=30)
        _SVG[key] = result.stdout.decode("utf-8")
    return _SVG[key]


def add_drawing(app: Flask, drawing: Drawing) -> None:
    """A package offers its workflow's diagram to `flask workflow diagram NAME`."""
    app.extensions.setdefault("wuji_drawings", {})[drawing.workflow.name] = drawing
