"""Renovation categories of the national scheme (国办发〔2020〕23号)."""
from flask_babel import lazy_gettext as _l

CATEGORIES = {
    "basic": _l("Basic"),
    "improvement": _l("Improvement"),
    "upgrade": _l("Upgrade"),
}

SUBCATEGORIES = {
    "basic": {
        "water": _l("Water supply"),
        "drainage": _l("Drainage"),
        "power": _l("Power supply"),
        "gas": _l("Gas"),
        "heating": _l("Heating"),
        "roads": _l("Roads and paving"),
        "fire_safety": _l("Fire safety"),
        "roof": _l("Roofs and waterproofing"),
        "walls": _l("External walls and insulation"),
        "stairs": _l("Stairwells"),
        "wires": _l("Overhead wires underground"),
    },
    "improvement": {
        "parking": _l("Parking"),
        "ev_charging": _l("Car charging points"),
        "ebike_shed": _l("E-bike shed and charging"),
        "elevator": _l("Elevator retrofit"),
        "accessibility": _l("Accessibility"),
        "greening": _l("Greening"),
        "lighting": _l("Lighting"),
        "parcel_lockers": _l("Parcel lockers"),
    },
    "upgrade": {
        "elderly_care": _l("Elderly care"),
        "childcare": _l("Childcare"),
        "canteen": _l("Community canteen"),
        "smart": _l("Smart facilities"),
        "services": _l("Community services"),
    },
}


def category_label(code: str) -> str:
    return str(CATEGORIES.get(code, code))


def subcategory_label(category: str, code: str) -> str:
    return str(SUBCATEGORIES.get(category, {}).get(code, code))


def valid(category: str, subcategory: str) -> bool:
    return subcategory in SUBCATEGORIES.get(category, {})
