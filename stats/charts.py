"""Charts drawn on the server as inline SVG: no script, no CDN, readable on a phone.

Each bar is a link to the worklist filtered to the items it counts, and carries a
<title> (read by screen readers, shown on hover) with its label and figure. The SVG
scales to the width of the page (viewBox); text is 13 user units in a 340-wide box.
"""
from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 340
ROW = 26
LABEL_W = 120
BAR_COLOUR = "#b71c1c"
SECOND_COLOUR = "#1b7f3b"


def bars(items: list[tuple[str, int, str]], title: str) -> Markup:
    """Horizontal bars: (label, count, link) per row, longest bar for the largest count."""
    top = max((count for _l, count, _h in items), default=0) or 1
    span = WIDTH - LABEL_W - 44
    height = ROW * len(items) + 4
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for index, (label, count, href) in enumerate(items):
        y = index * ROW + 2
        width = round(span * count / top, 1)
        parts.append(
            f'<a href="{escape(href)}"><title>{escape(label)}: {count}</title>'
            f'<text x="0" y="{y + 17}" font-size="13" fill="#1f2328">{escape(_clip(label, 8))}</text>'
            f'<rect x="{LABEL_W}" y="{y + 4}" width="{max(width, 1.5)}" height="{ROW - 8}" rx="3" '
            f'fill="{BAR_COLOUR if count else "#e3e5e8"}"/>'
            f'<text x="{LABEL_W + width + 6}" y="{y + 17}" font-size="13" fill="#0b57d0">{count}</text></a>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def trend(months: list[tuple[str, int, int, str]], title: str, first_label: str, second_label: str) -> Markup:
    """Columns per month: (month label, raised, resolved, link); raised in red, resolved in green."""
    height, base, chart_h = 200, 160, 130
    top = max((raised for _m, raised, _r, _h in months), default=0) or 1
    step = WIDTH / max(len(months), 1)
    column = max(step / 2 - 2, 2)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#c7ccd1"/>']
    for index, (label, raised, resolved, href) in enumerate(months):
        x = index * step + 1
        h1 = round(chart_h * raised / top, 1)
        h2 = round(chart_h * resolved / top, 1)
        parts.append(
            f'<a href="{escape(href)}"><title>{escape(label)}: {escape(first_label)} {raised}, '
            f'{escape(second_label)} {resolved}</title>'
            f'<rect x="{x:.1f}" y="{base - h1}" width="{column:.1f}" height="{h1}" fill="{BAR_COLOUR}"/>'
            f'<rect x="{x + column + 1:.1f}" y="{base - h2}" width="{column:.1f}" height="{h2}" '
            f'fill="{SECOND_COLOUR}"/>'
            f'<text x="{x + column:.1f}" y="{base + 16}" font-size="11" text-anchor="middle" '
            f'fill="#5f6670">{escape(label)}</text>'
            f'<text x="{x + column / 2:.1f}" y="{max(base - h1 - 3, 10)}" font-size="9" text-anchor="middle" '
            f'fill="#1f2328">{raised}</text></a>'
        )
    parts.append(
        f'<rect x="0" y="{height - 10}" width="10" height="10" fill="{BAR_COLOUR}"/>'
        f'<text x="14" y="{height - 1}" font-size="11" fill="#1f2328">{escape(first_label)}</text>'
        f'<rect x="120" y="{height - 10}" width="10" height="10" fill="{SECOND_COLOUR}"/>'
        f'<text x="134" y="{height - 1}" font-size="11" fill="#1f2328">{escape(second_label)}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
