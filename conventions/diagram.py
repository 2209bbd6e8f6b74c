"""The convention lifecycle as drawn by workflow/diagram.py from its definition."""
from __future__ import annotations

from conventions.workflow import WORKFLOW
from workflow.diagram import Drawing

# Filing and publication are declared from every earlier state (so that trying them
# too early gets a clear message); the diagram shows the path they actually take.
DRAWING = Drawing(WORKFLOW, fills={"published": "#fff8e1"}, sources={"file": ("adopted",), "publish": ("filed",)},
                  loops=False)
