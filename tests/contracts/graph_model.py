"""Microsoft Graph's v1.0 description (the vendored extract of its CSDL) as the contract tests use it: does a path
with its method exist, and does a JSON body keep a type (every property declared on the type, its bases or the
derived type its `@odata.type` names; each value of the declared type; no null where the type says it cannot be)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

EXTRACT = Path(__file__).with_name("graph_v1_extract.json")

DURATION = re.compile(r"-?P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?")
PRIMITIVES = {
    "Edm.String": lambda v: isinstance(v, str),
    "Edm.Boolean": lambda v: isinstance(v, bool),
    "Edm.Int32": lambda v: isinstance(v, int) and not isinstance(v, bool) and -(2**31) <= v < 2**31,
    "Edm.Int64": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Edm.Double": lambda v: isinstance(v, int | float) and not isinstance(v, bool) or v in ("NaN", "INF", "-INF"),
    "Edm.Single": lambda v: isinstance(v, int | float) and not isinstance(v, bool) or v in ("NaN", "INF", "-INF"),
    "Edm.Guid": lambda v: isinstance(v, str) and _parses(uuid.UUID, v),
    "Edm.DateTimeOffset": lambda v: isinstance(v, str) and "T" in v and _parses(datetime.fromisoformat, v),
    "Edm.Duration": lambda v: isinstance(v, str) and DURATION.fullmatch(v) is not None,
}


def _parses(parse: Any, value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Step:
    """What a path segment reached: a type, whether it is a collection, and the bound operation it names."""

    type: str
    collection: bool
    operation: dict[str, Any] | None = None


class GraphModel:
    def __init__(self, extract: dict[str, Any]) -> None:
        self.source: dict[str, str] = extract["source"]
        self.container: dict[str, dict[str, str]] = extract["container"]
        self.operations: list[dict[str, Any]] = extract["operations"]
        self.types: dict[str, dict[str, Any]] = extract["types"]
        self.enums: dict[str, dict[str, Any]] = extract["enums"]

    def lineage(self, name: str) -> list[str]:
        """The type and its base types, nearest first."""
        chain = [name]
        while "base" in self.types[chain[-1]]:
            chain.append(self.types[chain[-1]]["base"])
        return chain

    def _open(self, name: str) -> bool:
        """Open complex types take properties they do not declare. Open entity types (onlineMeeting) are held to
        what they declare: Graph opens them to add properties later, and a stub inventing one is what we look for."""
        return any(self.types[t]["kind"] == "ComplexType" and self.types[t].get("openType") for t in self.lineage(name))

    def members(self, name: str, kind: str = "properties") -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for ancestor in reversed(self.lineage(name)):
            found |= self.types[ancestor].get(kind, {})
        return found

    def resolve(self, method: str, path: str) -> Step:
        """The target of a Graph URL path (after /v1.0), in the CSDL's terms; AssertionError if Graph has none."""
        segments = [s for s in path.strip("/").split("/") if s]
        head = self.container.get(segments[0])
        assert head is not None, f"{path}: no entity set or singleton {segments[0]!r}"
        step = Step(head["type"], head["kind"] == "EntitySet")
        keyed = False
        for segment in segments[1:]:
            assert step.operation is None, f"{path}: nothing follows an operation"
            if step.collection and not keyed:
                operation = self._operation(segment, step)
                if operation is not None:
                    step = Step(step.type, True, operation)
                    continue
                step, keyed = Step(step.type, False), True  # a key
                continue
            operation = self._operation(segment, step)
            if operation is not None:
                step = Step(step.type, False, operation)
                continue
            navigation = self.members(step.type, "navigation").get(segment)
            assert navigation is not None, f"{path}: {step.type} has no navigation property {segment!r}"
            target = navigation["type"]
            many = target.startswith("Collection(")
            step, keyed = Step(target[11:-1] if many else target, many), False
        wanted = {"Action": "POST", "Function": "GET"}.get(step.operation["kind"]) if step.operation else None
        allowed = {wanted} if wanted else ({"GET", "POST"} if step.collection else {"GET", "PATCH", "DELETE"})
        assert method in allowed, f"{method} {path}: Graph takes {', '.join(sorted(allowed))} there"
        return step

    def _operation(self, name: str, step: Step) -> dict[str, Any] | None:
        for operation in self.operations:
            short = operation["name"].rpartition(".")[2]
            binding = operation["binding"]
            many = binding.startswith("Collection(")
            bound = binding[11:-1] if many else binding
            named = name.removesuffix("()") in (short, operation["name"])  # a function may come with its ()
            if named and many == step.collection and bound in self.lineage(step.type):
                return operation
        return None

    def check(self, value: Any, written: str, where: str = "$", *, required: bool = False) -> list[str]:
        """Every way `value` breaks the type `written` (`Collection(...)` allowed); `required`: non-nullable
        properties must be there too (a request or a notification, not an answer that may have been narrowed)."""
        if written.startswith("Collection("):
            if not isinstance(value, list):
                return [f"{where}: expected an array of {written[11:-1]}, got {type(value).__name__}"]
            return [
                p
                for i, item in enumerate(value)
                for p in self.check(item, written[11:-1], f"{where}[{i}]", required=required)
            ]
        if written in PRIMITIVES:
            return [] if PRIMITIVES[written](value) else [f"{where}: {value!r} is not {written}"]
        if written in self.enums:
            members = self.enums[written]["members"]
            names = value.split(",") if isinstance(value, str) and self.enums[written].get("flags") else [value]
            return [] if all(n in members for n in names) else [f"{where}: {value!r} is not one of {written}"]
        if written not in self.types:
            return [f"{where}: {written} is not in the extract (regenerate it with this type)"]
        if not isinstance(value, dict):
            return [f"{where}: expected a {written} object, got {type(value).__name__}"]
        actual, problems = written, []
        named = value.get("@odata.type")
        if isinstance(named, str):
            actual = named.removeprefix("#")
            if self._open(written) and actual not in self.types:
                actual = written  # resourceData's @odata.type names the resource ("#microsoft.graph.callrecord")
            elif actual not in self.types or written not in self.lineage(actual):
                return [f"{where}: @odata.type {named!r} is not {written} or a type derived from it"]
        properties = self.members(actual)
        navigation = self.members(actual, "navigation")
        for key, item in value.items():
            name = key.partition("@")[0]
            if key.startswith("@") or (name in navigation | properties and "@odata." in key):
                continue  # OData control information (@odata.type, sessions@odata.nextLink)
            declared = properties.get(key) or navigation.get(key)
            if declared is None and self._open(actual):
                continue  # a dynamic property of an open complex type (a notification's resourceData)
            if declared is None:
                problems.append(f"{where}.{key}: not declared on {actual}")
            elif item is None:
                if declared.get("nullable") is False:
                    problems.append(f"{where}.{key}: null, but {actual} declares it non-nullable")
            else:
                problems += self.check(item, declared["type"], f"{where}.{key}", required=required)
        if required:
            problems += [
                f"{where}.{name}: missing, but {actual} declares it non-nullable"
                for name, declared in properties.items()
                if declared.get("nullable") is False and name not in value and name != "id"
            ]
        return problems

    def declares(self, roots: list[str], name: str) -> bool:
        """Whether a property (or navigation property) `name` is declared on a type reachable from `roots`."""
        return any(name in t.get("properties", {}) or name in t.get("navigation", {}) for t in self.reachable(roots))

    def reachable(self, roots: list[str]) -> list[dict[str, Any]]:
        seen: set[str] = set()
        pending = list(roots)
        while pending:
            name = pending.pop()
            name = name[11:-1] if name.startswith("Collection(") else name
            if name in seen or name not in self.types:
                continue
            seen.add(name)
            described = self.types[name]
            pending += [described["base"]] if "base" in described else []
            pending += [m["type"] for m in described.get("properties", {}).values()]
            pending += [m["type"] for m in described.get("navigation", {}).values()]
            pending += [d for d, t in self.types.items() if t.get("base") == name]
        return [self.types[name] for name in sorted(seen)]


@cache
def graph_v1() -> GraphModel:
    return GraphModel(json.loads(EXTRACT.read_text(encoding="utf-8")))
