"""Work per unit, counted on the wire (shared/core/usage.py) while a benchmark runs, printed beside its times and
kept in bench/out/counts.json, from which bench/costs.py estimates a month's bill."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.stubs import StubProcess
from shared.core.usage import Measured, measure

OUT = Path(__file__).resolve().parent / "out" / "counts.json"


@contextmanager
def counting(*stubs: StubProcess | None) -> Iterator[Measured]:
    """What this process records in the block, plus what the stub processes answered meanwhile."""
    remote = [stub for stub in stubs if stub is not None]
    before = [stub.counts() for stub in remote]
    with measure() as measured:
        yield measured
    for stub, start in zip(remote, before, strict=True):
        measured.counts.update(stub.counts() - start)


def per_unit(measured: Measured, units: int) -> dict[str, float]:
    """`storage <account> <table or queue> <kind>`, `graph <call>`, `function <name>`... -> per unit. The host's
    receives are left out: how many depends on its polling (idle queues) and batch size, not on the work."""
    found: Counter[str] = Counter()
    for key, n in measured.counts.items():
        if key[0] == "storage" and key[1] == "host" and key[3] in ("get", "get-empty", "create"):
            continue
        found[" ".join(key)] += n
    return {key: round(n / units, 3) for key, n in sorted(found.items())}


def summary(counts: dict[str, float]) -> str:
    """One line: storage transactions by kind, then calls, executions, secret reads and SMS segments."""
    kinds: defaultdict[str, float] = defaultdict(float)
    other: defaultdict[str, float] = defaultdict(float)
    for key, n in counts.items():
        parts = key.split(" ")
        if parts[0] == "seconds":
            continue
        if parts[0] == "storage":
            kinds[parts[3]] += n
        else:
            other["sms segments" if parts[0] == "sms" else parts[0]] += n
    storage = ", ".join(f"{kind} {n:g}" for kind, n in sorted(kinds.items()))
    rest = ", ".join(f"{name} {n:g}" for name, n in sorted(other.items()))
    return f"storage {sum(kinds.values()):g} ({storage}); {rest or 'no calls'}"


def report(unit: str, measured: Measured, units: int, seconds: float | None = None) -> None:
    """Print the counts per `unit` (its tables and queues on a second line) and keep them for bench/costs.py, with
    the unit's measured execution time in `seconds` when known (bench/costs.py bills at least a second each)."""
    counts = per_unit(measured, units)
    if seconds is not None:
        counts["seconds"] = round(seconds, 4)
    print(f"  per {unit}: {summary(counts)}")
    tables: defaultdict[str, float] = defaultdict(float)
    for key, n in counts.items():
        parts = key.split(" ")
        if parts[0] == "storage":
            tables[f"{parts[1]}/{parts[2]} {parts[3]}"] += n
    print("    " + ", ".join(f"{name} {n:g}" for name, n in sorted(tables.items())))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    stored = json.loads(OUT.read_text()) if OUT.exists() else {}
    stored[unit] = counts
    OUT.write_text(json.dumps(stored, indent=1, sort_keys=True))
