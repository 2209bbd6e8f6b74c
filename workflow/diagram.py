"""Workflow diagrams generated from the definition (Graphviz dot → SVG), never drawn by hand."""
from __future__ import annotations

import functools
import subprocess

from flask_babel import force_locale

from issues.renovation import WORKFLOW

LEVEL_COLOURS = {
    "member_household": "#fff3e0",
    "building_group": "#fce4ec",
    "grid_branch": "#ede7f6",
    "community_committee": "#e3f2fd",
    "street_committee": "#e8f5e9",
}


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_source(locale: str = "zh_Hans_CN") -> str:
    with force_locale(locale):
        lines = [
            "digraph renovation {",
            '  graph [rankdir=TB, fontname="Noto Sans CJK SC", nodesep=0.3, ranksep=0.45];',
            '  node [shape=box, style="rounded,filled", fontname="Noto Sans CJK SC", fontsize=11];',
            '  edge [fontname="Noto Sans CJK SC", fontsize=9, color="#777777"];',
        ]
        for state in WORKFLOW.states.values():
            colour = LEVEL_COLOURS.get(state.level or "", "#eeeeee")
            shape = ", peripheries=2" if state.terminal else ""
            lines.append(f"  {state.name} [label={_quote(state.label)}, fillcolor={_quote(colour)}{shape}];")
        seen = set()
        for t in WORKFLOW.transitions:
            for source in t.source:
                key = (source, t.dest, t.trigger)
                if key in seen or t.trigger == "rate":
                    continue
                seen.add(key)
                lines.append(f"  {source} -> {t.dest} [label={_quote(t.label)}];")
        lines.append("}")
    return "\n".join(lines)


@functools.lru_cache(maxsize=4)
def svg(locale: str = "zh_Hans_CN") -> str:
    result = subprocess.run(
        ["dot", "-Tsvg"], input=dot_source(locale).encode("utf-8"), capture_output=True, check=True, timeout=30
    )
    return result.stdout.decode("utf-8")
