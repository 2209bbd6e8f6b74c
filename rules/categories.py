"""Renovation categories of the national scheme (国办发〔2020〕23号), as records.

Each sub-category carries what the workflow needs of it: its label, the acceptance
checklist items specific to it, the kind of matter it puts to the owners' vote (Civil
Code Art. 278: items 7 and 8 take the three-quarters rule) and, where it differs from the
city's default, its public notice period. A city's policy (rules/policy.py) holds its own
set: the national one, or one with additions (see README "City policy").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from rules.tally import SubjectKind

CATEGORIES = {
    "basic": _l("Basic"),
    "improvement": _l("Improvement"),
    "upgrade": _l("Upgrade"),
}


@dataclass(frozen=True)
class Subcategory:
    code: str
    category: str  # one of CATEGORIES
    label: Any  # lazy string
    checklist: dict[str, Any] = field(default_factory=dict)  # acceptance items specific to it: code -> label
    # The matter it puts to the owners' vote: elevator retrofits and other alterations of buildings
    # (item 7), building on or changing the use of common parts (item 8), else a renovation plan.
    vote_kind: SubjectKind = SubjectKind.RENOVATION_PLAN
    notice_days: int | None = None  # None: the city's default notice period


NATIONAL: tuple[Subcategory, ...] = (
    Subcategory("water", "basic", _l("Water supply"),
                checklist={
                    "water.pressure": _l("Water pipes pass the pressure test with no leaking joints"),
                    "water.quality": _l("A water quality test report is on file"),
                },
    ),
    Subcategory("drainage", "basic", _l("Drainage"),
                checklist={
                    "drainage.flow": _l("Drains flow freely in a water test and every manhole has its cover"),
                    "drainage.separation": _l("Rainwater and sewage are separated"),
                },
    ),
    Subcategory("power", "basic", _l("Power supply"),
                checklist={
                    "power.wiring": _l("Wiring and breakers meet the electrical code; the insulation test passed"),
                },
    ),
    Subcategory("gas", "basic", _l("Gas"),
                checklist={
                    "gas.pressure": _l("Gas pipes pass the pressure test and the gas company signed the handover"),
                },
    ),
    Subcategory("heating", "basic", _l("Heating"),
                checklist={"heating.test": _l("Radiators reach the design temperature in a heating test")},
    ),
    Subcategory("roads", "basic", _l("Roads and paving"),
                checklist={
                    "roads.surface": _l("The road surface is even, without cracks or standing water"),
                    "roads.kerbs": _l("Kerbs and gullies are complete"),
                },
    ),
    Subcategory("fire_safety", "basic", _l("Fire safety"),
                checklist={
                    "fire.equipment": _l("Hydrants and extinguishers are in place and work"),
                    "fire.access": _l("Fire access routes are marked and clear"),
                },
    ),
    Subcategory("roof", "basic", _l("Roofs and waterproofing"),
                checklist={"roof.waterproofing": _l("Roof waterproofing passes a 48-hour water test")},
    ),
    Subcategory("walls", "basic", _l("External walls and insulation"),
                checklist={
                    "walls.insulation": _l("Insulation is firmly bonded, without hollows or cracks"),
                    "walls.finish": _l("The finish is even and of one colour"),
                },
    ),
    Subcategory("stairs", "basic", _l("Stairwells"),
                checklist={
                    "stairs.lighting": _l("Stairwell lights work and the sensor lights respond"),
                    "stairs.handrails": _l("Handrails are firm; walls are repaired and painted"),
                },
    ),
    Subcategory("wires", "basic", _l("Overhead wires underground"),
                checklist={
                    "wires.underground": _l("Overhead wires are removed or laid underground; no loose cables remain"),
                },
    ),
    Subcategory("parking", "improvement", _l("Parking"),
                checklist={"parking.marking": _l("Parking spaces are marked and numbered as in the plan")},
                vote_kind=SubjectKind.COMMON_PARTS_USE,
    ),
    Subcategory("ev_charging", "improvement", _l("Car charging points"),
                checklist={
                    "ev.charging": _l("Charging points charge correctly; earthing and protection are tested"),
                },
                vote_kind=SubjectKind.COMMON_PARTS_USE,
    ),
    Subcategory("ebike_shed", "improvement", _l("E-bike shed and charging"),
                checklist={
                    "ebike.shed": _l("The shed is sound and lit"),
                    "ebike.charging": _l("Chargers cut off when full and extinguishers are in place"),
                },
                vote_kind=SubjectKind.COMMON_PARTS_USE,
    ),
    Subcategory("elevator", "improvement", _l("Elevator retrofit"),
                checklist={
                    "elevator.certificate": _l(
                        "The elevator passed the special equipment inspection and is registered"),
                    "elevator.trial": _l("Trial runs stop at every floor; the alarm and the intercom work"),
                },
                vote_kind=SubjectKind.ELEVATOR_RETROFIT,
                notice_days=15,
    ),
    Subcategory("accessibility", "improvement", _l("Accessibility"),
                checklist={"accessibility.ramps": _l("Ramps and handrails meet the accessibility standard")},
    ),
    Subcategory("greening", "improvement", _l("Greening"),
                checklist={"greening.planting": _l("Plants are in place as designed and have taken root")},
    ),
    Subcategory("lighting", "improvement", _l("Lighting"),
                checklist={"lighting.lamps": _l("Lamps light the paths as designed and the timers work")},
    ),
    Subcategory("parcel_lockers", "improvement", _l("Parcel lockers"),
                checklist={"parcel_lockers.work": _l("Lockers are installed and every door opens correctly")},
                vote_kind=SubjectKind.COMMON_PARTS_USE,
    ),
    Subcategory("elderly_care", "upgrade", _l("Elderly care"), vote_kind=SubjectKind.COMMON_PARTS_USE),
    Subcategory("childcare", "upgrade", _l("Childcare"), vote_kind=SubjectKind.COMMON_PARTS_USE),
    Subcategory("canteen", "upgrade", _l("Community canteen"), vote_kind=SubjectKind.COMMON_PARTS_USE),
    Subcategory("smart", "upgrade", _l("Smart facilities")),
    Subcategory("services", "upgrade", _l("Community services")),
)


def by_code(subcategories) -> dict[str, Subcategory]:
    return {sub.code: sub for sub in subcategories}
