"""Benchmark: tally a 10,000-household owners' vote (target: median <= 50 ms).

Run: .venv/bin/python bench/votes_tally.py [--households N] [--runs R] [--seed S]

The electorate is shaped like an old estate: areas 38-145 m² (2 places), about
half the units co-owned by a couple, about 4 % of owners holding two or three
units, about 2 % of units unsold (the developer). Ballots: about 80 % turnout,
mostly agree. Prints the electorate build time and the median tally time over
the runs (the figure the target is about).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rules.tally import (  # noqa: E402
    OWNERS_MAJOR,
    Choice,
    OwnerUnit,
    build_owner_electorate,
    describe,
    tally,
)

TARGET_MS = 50.0


def make_units(households: int, rng: random.Random) -> list[OwnerUnit]:
    """Realistic units: couples, multi-unit owners, some unsold units."""
    units: list[OwnerUnit] = []
    next_person = 0
    multi_owners: list[int] = []
    for household_id in range(1, households + 1):
        area = Decimal(rng.randint(3_800, 14_500)).scaleb(-2)
        if rng.random() < 0.02:
            units.append(OwnerUnit(household_id, area, frozenset(), unsold=True))
            continue
        if multi_owners and rng.random() < 0.04:
            owner_ids = frozenset({rng.choice(multi_owners)})
        else:
            next_person += 1
            owner_ids = frozenset({next_person})
            if rng.random() < 0.5:
                next_person += 1
                owner_ids |= {next_person}
            if rng.random() < 0.05:
                multi_owners.append(min(owner_ids))
        units.append(OwnerUnit(household_id, area, owner_ids))
    return units


def make_ballots(keys: list[str], rng: random.Random) -> dict[str, Choice]:
    weights = [0.8, 0.12, 0.08]
    choices = [Choice.AGREE, Choice.DISAGREE, Choice.ABSTAIN]
    return {key: rng.choices(choices, weights)[0] for key in keys if rng.random() < 0.8}


def timed_ms(func, *args) -> tuple[float, object]:
    start = time.perf_counter_ns()
    result = func(*args)
    return (time.perf_counter_ns() - start) / 1e6, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    units = make_units(args.households, rng)
    build_ms, voters = timed_ms(build_owner_electorate, units)
    ballots = make_ballots([v.key for v in voters], rng)

    times = []
    for _ in range(args.runs):
        elapsed, result = timed_ms(tally, OWNERS_MAJOR, voters, ballots)
        times.append(elapsed)
    median = statistics.median(times)

    developer = sum(1 for v in voters if v.key == "developer")
    multi = sum(1 for v in voters if len(v.household_ids) > 1) - developer
    print(f"households: {len(units)}  voters: {len(voters)}  multi-unit owners: {multi}  "
          f"developer voters: {developer}  ballots: {len(ballots)}")
    print(f"build_owner_electorate: {build_ms:.1f} ms (once)")
    print(f"tally over {args.runs} runs: median {median:.2f} ms, min {min(times):.2f} ms, "
          f"max {max(times):.2f} ms; target <= {TARGET_MS:.0f} ms: "
          f"{'OK' if median <= TARGET_MS else 'OVER TARGET'}")
    print("describe:", *describe(result), sep="\n  ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
