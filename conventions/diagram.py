"""The convention lifecycle drawn from its definition (Graphviz dot → SVG), never by hand."""
from __future__ import annotations

import functools
import subprocess

from flask_babel import force_locale

from conventions.workflow import WORKFLOW

LEVEL_COLOURS = {"community_committee": "#e3f2fd", "street_committee": "#e8f5e9"}
# Filing and publication are declared from every earlier state (so that trying them
# too early gets a clear message); the diagram shows the path they actually take.
DRAWN_SOURCES = {"file": ("adopted",), "publish": ("filed",)}


def _quote(text: object) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_source(locale: str = "zh_Hans_CN") -> str:
    with force_locale(locale):
        lines = [
            "digraph convention {",
            '  graph [rankdir=TB, fontname="Noto Sans CJK SC", nodesep=0.3, ranksep=0.45];',
            '  node [shape=box, style="rounded,filled", fontname="Noto Sans CJK SC", fontsize=11];',
            '  edge [fontname="Noto Sans CJK SC", fontsize=9, color="#777777"];',
        ]
        for state in WORKFLOW.states.values():
            colour = LEVEL_COLOURS.get(state.level or "", "#fff8e1" if state.name == "published" else "#eeeeee")
            shape = ", peripheries=2" if state.terminal else ""
            lines.append(f"  {state.name} [label={_quote(state.label)}, fillcolor={_quote(colour)}{shape}];")
        seen: set[tuple[str, str, str]] = set()
        for t in WORKFLOW.transitions:
            for source in DRAWN_SOURCES.get(t.trigger, t.source):
                if (source, t.dest, t.trigger) not in seen and source != t.dest:
                    seen.add((source, t.dest, t.trigger))
                    lines.append(f"  {source} -> {t.dest} [label={_quote(t.label)}];")
        lines.append("}")
    return "\n".join(lines)


@functools.lru_cache(maxsize=4)
def svg(locale: str = "zh_Hans_CN") -> str:
    result = subprocess.run(["dot", "-Tsvg"], input=dot_source(locale).encode("utf-8"), capture_output=True,
                            check=True, timeout=30)
    return result.stdout.decode("utf-8")
