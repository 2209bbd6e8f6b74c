"""Checklist templates for joint acceptance (联合验收), per category and sub-category.

An inspection's items are the common items, then those of the issue's category, then
those of its sub-category. Items are stored by code and shown in the reader's language.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

COMMON = {
    "common.scope": _l("The work done matches the approved plan and its scope"),
    "common.site": _l("The site is cleared and the common areas are restored"),
    "common.safety": _l("No safety hazards remain (open edges, holes, temporary wiring)"),
    "common.documents": _l("As-built drawings, material certificates and the warranty are handed over"),
}

BY_CATEGORY = {
    "basic": {"basic.materials": _l("Materials and equipment carry quality certificates and were checked on arrival")},
    "improvement": {"improvement.trial": _l("The new facility works as designed in a trial run")},
    "upgrade": {"upgrade.premises": _l("The premises pass the fire safety and hygiene checks")},
}

BY_SUBCATEGORY = {
    "water": {"water.pressure": _l("Water pipes pass the pressure test with no leaking joints"),
              "water.quality": _l("A water quality test report is on file")},
    "drainage": {"drainage.flow": _l("Drains flow freely in a water test and every manhole has its cover"),
                 "drainage.separation": _l("Rainwater and sewage are separated")},
    "power": {"power.wiring": _l("Wiring and breakers meet the electrical code; the insulation test passed")},
    "gas": {"gas.pressure": _l("Gas pipes pass the pressure test and the gas company signed the handover")},
    "heating": {"heating.test": _l("Radiators reach the design temperature in a heating test")},
    "roads": {"roads.surface": _l("The road surface is even, without cracks or standing water"),
              "roads.kerbs": _l("Kerbs and gullies are complete")},
    "fire_safety": {"fire.equipment": _l("Hydrants and extinguishers are in place and work"),
                    "fire.access": _l("Fire access routes are marked and clear")},
    "roof": {"roof.waterproofing": _l("Roof waterproofing passes a 48-hour water test")},
    "walls": {"walls.insulation": _l("Insulation is firmly bonded, without hollows or cracks"),
              "walls.finish": _l("The finish is even and of one colour")},
    "stairs": {"stairs.lighting": _l("Stairwell lights work and the sensor lights respond"),
               "stairs.handrails": _l("Handrails are firm; walls are repaired and painted")},
    "wires": {"wires.underground": _l("Overhead wires are removed or laid underground; no loose cables remain")},
    "parking": {"parking.marking": _l("Parking spaces are marked and numbered as in the plan")},
    "ev_charging": {"ev.charging": _l("Charging points charge correctly; earthing and protection are tested")},
    "ebike_shed": {"ebike.shed": _l("The shed is sound and lit"),
                   "ebike.charging": _l("Chargers cut off when full and extinguishers are in place")},
    "elevator": {"elevator.certificate": _l("The elevator passed the special equipment inspection and is registered"),
                 "elevator.trial": _l("Trial runs stop at every floor; the alarm and the intercom work")},
    "accessibility": {"accessibility.ramps": _l("Ramps and handrails meet the accessibility standard")},
    "greening": {"greening.planting": _l("Plants are in place as designed and have taken root")},
    "lighting": {"lighting.lamps": _l("Lamps light the paths as designed and the timers work")},
    "parcel_lockers": {"parcel_lockers.work": _l("Lockers are installed and every door opens correctly")},
}

LABELS = {
    code: label
    for group in (COMMON, *BY_CATEGORY.values(), *BY_SUBCATEGORY.values())
    for code, label in group.items()
}


def template(category: str, subcategory: str) -> list[str]:
    """Item codes for an inspection of work in this category and sub-category."""
    return [*COMMON, *BY_CATEGORY.get(category, {}), *BY_SUBCATEGORY.get(subcategory, {})]


def specific(category: str, subcategory: str) -> list[str]:
    """The category and sub-category items only (a plan lists them per issue)."""
    return [*BY_CATEGORY.get(category, {}), *BY_SUBCATEGORY.get(subcategory, {})]


def label(code: str) -> str:
    return str(LABELS.get(code, code))
