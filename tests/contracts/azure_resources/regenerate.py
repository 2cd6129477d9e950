"""Vendor the descriptions of the Azure resource types infra/ declares, from Azure/bicep-types-az (what the Bicep
compiler itself checks resources against), reduced to what the tests read: each type's body, its properties'
types and flags, its scopes, and the output of each resource function (`listKeys`) infra/ calls. Descriptions,
patterns and lengths are left out.

Usage: python -m tests.contracts.azure_resources.regenerate <Azure/bicep-types-az git dir> [revision]
(`git clone --bare https://github.com/Azure/bicep-types-az` gives one; the revision defaults to HEAD). Run it
again after adding a resource type or changing an API version in infra/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.contracts.upstream import resolve, show, write_source
from tests.support.bicep_resources import resource_function_calls, resources

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def _candidates(git_dir: Path, commit: str, namespace: str, api_version: str) -> list[str]:
    """The types.json files that may hold a namespace's API version (one namespace can span several folders)."""
    listing = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", commit, "generated"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    suffix = f"/{namespace.lower()}/{api_version.lower()}/types.json"
    return sorted(path for path in listing if path.lower().endswith(suffix))


class Extract:
    """The reachable types of the chosen resources, renumbered into one table."""

    def __init__(self) -> None:
        self.types: list[dict[str, Any]] = []
        self._ids: dict[tuple[str, int], int] = {}

    def add(self, source: str, table: list[dict[str, Any]], index: int) -> int:
        key = (source, index)
        if key in self._ids:
            return self._ids[key]
        self._ids[key] = len(self.types)
        self.types.append({})
        self.types[self._ids[key]] = self._convert(source, table, table[index])
        return self._ids[key]

    def _ref(self, source: str, table: list[dict[str, Any]], ref: dict[str, str]) -> int:
        target = ref["$ref"]
        assert target.startswith("#/"), f"{source}: reference {target} leaves the file"
        return self.add(source, table, int(target[2:]))

    def _properties(self, source: str, table: list[dict[str, Any]], properties: dict[str, Any]) -> dict[str, Any]:
        return {
            name: {"type": self._ref(source, table, spec["type"]), "flags": spec.get("flags", 0)}
            for name, spec in properties.items()
        }

    def _convert(self, source: str, table: list[dict[str, Any]], node: dict[str, Any]) -> dict[str, Any]:
        kind = node["$type"]
        if kind == "ObjectType":
            converted: dict[str, Any] = {
                "kind": "object",
                "name": node["name"],
                "properties": self._properties(source, table, node.get("properties", {})),
            }
            if "additionalProperties" in node:
                converted["additionalProperties"] = self._ref(source, table, node["additionalProperties"])
            return converted
        if kind == "DiscriminatedObjectType":
            return {
                "kind": "discriminated",
                "name": node["name"],
                "discriminator": node["discriminator"],
                "baseProperties": self._properties(source, table, node.get("baseProperties", {})),
                "elements": {value: self._ref(source, table, ref) for value, ref in node["elements"].items()},
            }
        if kind == "ArrayType":
            return {"kind": "array", "items": self._ref(source, table, node["itemType"])}
        if kind == "UnionType":
            return {"kind": "union", "elements": [self._ref(source, table, ref) for ref in node["elements"]]}
        if kind == "StringLiteralType":
            return {"kind": "literal", "value": node["value"]}
        simple = {"StringType": "string", "IntegerType": "integer", "BooleanType": "boolean", "AnyType": "any"}
        assert kind in simple, f"{source}: type {kind} is not handled"
        return {"kind": simple[kind]}


def main(argv: list[str]) -> None:
    git_dir = Path(argv[0])
    commit = resolve(git_dir, argv[1] if len(argv) > 1 else "HEAD")
    paths = sorted((ROOT / "infra").rglob("*.bicep"))
    wanted = sorted({(r.type, r.api_version) for r in resources(paths)})
    calls = {call.key: call for call in resource_function_calls(paths)}
    extract = Extract()
    found: dict[str, Any] = {}
    sources: set[str] = set()
    for resource_type, api_version in wanted:
        name = f"{resource_type}@{api_version}"
        for source in _candidates(git_dir, commit, resource_type.split("/")[0], api_version):
            table = json.loads(show(git_dir, commit, source))
            index = next(
                (
                    i
                    for i, node in enumerate(table)
                    if node["$type"] == "ResourceType" and node["name"].casefold() == name.casefold()
                ),
                None,
            )
            if index is None:
                continue
            declared = table[index]
            found[name] = {
                "source": source,
                "body": extract._ref(source, table, declared["body"]),
                "readableScopes": declared.get("readableScopes", 0),
                "writableScopes": declared.get("writableScopes", 0),
            }
            sources.add(source)
            break
        else:
            print(f"{name}: not in bicep-types-az at {commit[:12]}", file=sys.stderr)
    functions: dict[str, Any] = {}
    for key, call in sorted(calls.items()):
        for source in _candidates(git_dir, commit, call.type.split("/")[0], call.api_version):
            table = json.loads(show(git_dir, commit, source))
            index = next(
                (
                    i
                    for i, node in enumerate(table)
                    if node["$type"] == "ResourceFunctionType"
                    and f"{node['name'].casefold()} {node['resourceType']}@{node['apiVersion']}".casefold()
                    == key.casefold()
                ),
                None,
            )
            if index is not None:
                functions[key] = {"source": source, "output": extract._ref(source, table, table[index]["output"])}
                sources.add(source)
                break
        else:
            print(f"{key}: not in bicep-types-az at {commit[:12]}", file=sys.stderr)
    # One type a line: small, and a refresh's diff still shows which types changed.
    types = ",\n".join("  " + json.dumps(t, sort_keys=True, separators=(",", ":")) for t in extract.types)
    resources_json = json.dumps(found, indent=2, sort_keys=True).replace("\n", "\n ")
    functions_json = json.dumps(functions, indent=2, sort_keys=True).replace("\n", "\n ")
    (HERE / "types.json").write_text(
        f'{{\n "functions": {functions_json},\n "resources": {resources_json},\n "types": [\n{types}\n ]\n}}\n'
    )
    (HERE / "LICENSE").write_bytes(show(git_dir, commit, "LICENSE"))
    write_source(
        HERE,
        repository="https://github.com/Azure/bicep-types-az",
        commit=commit,
        paths=sorted(sources),
        license_id="MIT",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
