"""/api/v1/stats: the dashboard's figures as JSON (the same service as the page)."""
from __future__ import annotations

from flask import jsonify, request, url_for

from core.api import api, require_login
from stats import services
from stats.periods import parse


def _counts(counts: list[services.Count]) -> list[dict]:
    return [{"code": c.code, "label": c.label, "count": c.count} for c in counts]


@api.route("/stats")
def stats():
    actor = require_login()
    period = parse(request.args.get("period"), request.args.get("from"), request.args.get("to"))
    board = services.dashboard(actor, services.parse_node(request.args.get("node")), period)
    return jsonify({
        "node": {"id": board.node.id, "name": board.node.name, "level": board.node.level_code},
        "period": {"kind": period.kind, "from": period.first.isoformat(), "to": period.last.isoformat()},
        "figures": board.figures.as_dict(),
        "by_state": _counts(board.by_state),
        "by_category": _counts(board.by_category),
        "by_level": _counts(board.by_level),
        "children": [{"id": child.id, "name": child.name, "level": child.level_code, "figures": figures.as_dict(),
                      "url": url_for("api.stats", node=child.id, **period.query())}
                     for child, figures in board.children],
        "trend": [{"month": m.first.strftime("%Y-%m"), "raised": m.raised, "ended": m.ended,
                   "resolved": m.resolved} for m in board.trend],
        "worklist": url_for("issues.worklist", **board.worklist_args()),
    })
