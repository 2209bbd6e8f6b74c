"""OpenAPI description of /api/v1/stats (stats/api.py)."""
from __future__ import annotations

from core.api import document, json_content, ref, schema

INTEGER = {"type": "integer"}
RATE = {"type": ["string", "null"], "description": "per cent to one decimal, exact rounding; null when nothing to divide by"}

schema("StatsFigures", {
    "type": "object",
    "required": ["total", "ended", "resolved", "rated", "satisfied", "responded_on_time", "responded_late",
                 "overdue", "response_rate", "resolution_rate", "satisfaction_rate", "mean_rating"],
    "properties": {
        "total": {"type": "integer", "description": "items raised in the period under the node"},
        "ended": {"type": "integer", "description": "resolved, accepted (long-term management), closed or rejected"},
        "resolved": {"type": "integer", "description": "resolved, accepted or closed"},
        "rated": INTEGER,
        "satisfied": {"type": "integer", "description": "rated 4 or 5"},
        "responded_on_time": {"type": "integer", "description": "first acted on within the first state's deadline"},
        "responded_late": {"type": "integer", "description": "acted on late, referred up by the sweep, or unanswered past the deadline"},
        "overdue": {"type": "integer", "description": "open and past the current state's deadline now"},
        "response_rate": {**RATE, "description": "responded_on_time / (responded_on_time + responded_late)"},
        "resolution_rate": {**RATE, "description": "resolved / ended"},
        "satisfaction_rate": {**RATE, "description": "satisfied / rated"},
        "mean_rating": {"type": ["string", "null"], "description": "mean of the ratings (1-5) to two decimals"},
    },
})
COUNTS = {"type": "array", "items": {"type": "object", "required": ["code", "label", "count"], "properties": {
    "code": {"type": "string"}, "label": {"type": "string"}, "count": INTEGER}}}
schema("Stats", {
    "type": "object",
    "required": ["node", "period", "figures", "by_state", "by_category", "by_level", "children", "trend", "worklist"],
    "properties": {
        "node": {"type": "object", "properties": {"id": INTEGER, "name": {"type": "string"}, "level": {"type": "string"}}},
        "period": {"type": "object", "properties": {"kind": {"type": "string"}, "from": {"type": "string", "format": "date"},
                                                    "to": {"type": "string", "format": "date"}}},
        "figures": ref("StatsFigures"),
        "by_state": COUNTS,
        "by_category": COUNTS,
        "by_level": {**COUNTS, "description": "items whose current state is answered for at that level"},
        "children": {"type": "array", "items": {"type": "object", "properties": {
            "id": INTEGER, "name": {"type": "string"}, "level": {"type": "string"},
            "figures": ref("StatsFigures"), "url": {"type": "string"}}}},
        "trend": {"type": "array", "description": "the 12 months ending with the period's last month",
                  "items": {"type": "object", "properties": {"month": {"type": "string"}, "raised": INTEGER,
                                                             "ended": INTEGER, "resolved": INTEGER}}},
        "worklist": {"type": "string", "description": "the worklist (/issues) filtered to exactly these items"},
    },
})
ERROR = ref("Error")
document("/stats", "get", {
    "summary": "The three rates (response, resolution, satisfaction) and counts of a node's subtree for a period",
    "parameters": [
        {"name": "node", "in": "query", "schema": INTEGER,
         "description": "an org node in the caller's subtree (default: the caller's own); outside it: 404"},
        {"name": "period", "in": "query", "schema": {"type": "string", "enum": ["month", "quarter", "year", "custom"]},
         "description": "default month (this month, local time)"},
        {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "custom: first day"},
        {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "custom: last day (included)"},
    ],
    "responses": {
        "200": json_content("The figures", ref("Stats")),
        "400": json_content("Unknown period or malformed days (error: bad_period)", ERROR),
        "401": json_content("Not logged in", ERROR),
        "403": json_content("No role that sees a dashboard", ERROR),
        "404": json_content("Node missing or outside the caller's subtree", ERROR),
    },
})
