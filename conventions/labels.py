"""Labels people read for the convention vocabulary (kinds and scopes)."""
from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "residents_convention": _l("Residents' convention"),
    "ebike_shed": _l("E-bike shed construction and management convention"),
    "management_rules": _l("Management rules"),
    "other": _l("Other convention"),
}
SCOPE_LABELS = {"community": _l("Community"), "estate": _l("Estate"), "building": _l("Building")}
