"""The dashboard page: thin, the figures come from stats.services."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required

from stats import charts, services
from stats.periods import KINDS, parse


bp = Blueprint("stats", __name__)


def node_arg() -> int | None:
    return services.parse_node(request.args.get("node"))


def period_arg():
    return parse(request.args.get("period"), request.args.get("from"), request.args.get("to"))


def worklist(board: services.Dashboard, **extra) -> str:
    return url_for("issues.worklist", **board.worklist_args(**extra))


@bp.route("/dashboard")
@login_required
def dashboard():
    board = services.dashboard(current_user, node_arg(), period_arg())
    state_items = [(c.label, c.count, worklist(board, **c.args)) for c in board.by_state if c.count]
    trend_items = []
    for month in board.trend:
        args = {"queue": "all", "node": board.node.id, "from": month.first.isoformat(),
                "to": services.month_last_day(month.first).isoformat()}
        trend_items.append((format_date(month.first, "LLL"), month.raised, month.resolved,
                            url_for("issues.worklist", **args)))
    return render_template(
        "stats/dashboard.html",
        board=board,
        kinds=KINDS,
        worklist=lambda **extra: worklist(board, **extra),
        state_chart=charts.bars(state_items, _("Items by state")) if state_items else None,
        category_chart=charts.bars([(c.label, c.count, worklist(board, **c.args)) for c in board.by_category],
                                   _("Items by category")),
        level_chart=charts.bars([(c.label, c.count, worklist(board, **c.args)) for c in board.by_level],
                                _("Items by level responsible")),
        trend_chart=charts.trend(trend_items, _("Trend by month"), _("Raised"), _("Resolved")),
    )
