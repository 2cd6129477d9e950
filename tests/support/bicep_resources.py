"""The resources infra/ declares, and what each sets, read from the Bicep source with tree-sitter-bicep (no Bicep
compiler can be installed offline): its type and API version, whether it is `existing`, and its body as plain
values where the source spells them out (objects, arrays, strings, numbers, booleans, loops' and conditions'
bodies, both branches of a ternary, and variables of the same file), else `Unknown`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tree_sitter

from tests.support.bicep import BicepFile, text


@dataclass(frozen=True)
class Unknown:
    """A value the source computes (a parameter, a call, an output of another resource)."""

    source: str


@dataclass(frozen=True)
class Interpolated:
    """A string with `${...}` in it: a string whose value is known only at deployment."""

    source: str


@dataclass(frozen=True)
class Either:
    """A ternary: one of its branches."""

    branches: tuple[Any, ...]


@dataclass(frozen=True)
class Resource:
    path: Path
    line: int
    symbol: str
    type: str  # Microsoft.Web/sites
    api_version: str
    existing: bool
    body: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line} {self.symbol}"


def resources(paths: list[Path]) -> Iterator[Resource]:
    for path in paths:
        parsed = BicepFile(path)
        variables = {d.name: d.node for d in parsed.of_kind("variable")}
        for declaration in parsed.of_kind("resource"):
            children = declaration.node.children
            type_text = next(text(c) for c in children if c.type == "string").strip("'")
            resource_type, _, api_version = type_text.partition("@")
            body_node = children[-1]
            if body_node.type in {"if_statement", "for_statement"}:
                body_node = next(c for c in body_node.children if c.type == "object")
            body = _value(body_node, variables)
            assert isinstance(body, dict), f"{path.name}: resource {declaration.name} has no object body"
            yield Resource(
                path=path,
                line=declaration.node.start_point[0] + 1,
                symbol=declaration.name,
                type=resource_type,
                api_version=api_version,
                existing=any(c.type == "existing" for c in children),
                body=body,
            )


def variables(path: Path) -> dict[str, Any]:
    """A file's variables, as plain values where the source spells them out."""
    nodes = {d.name: d.node for d in BicepFile(path).of_kind("variable")}
    return {name: _value(node.children[-1], nodes) for name, node in nodes.items()}


def _value(node: tree_sitter.Node, variables: dict[str, tree_sitter.Node]) -> Any:
    kind = node.type
    if kind == "object":
        values: dict[str, Any] = {}
        for item in node.children:
            if item.type != "object_property":
                continue
            key, *rest = [c for c in item.children if c.type not in {":", "comment"}]
            values[text(key).strip("'")] = _value(rest[-1], variables)  # a key with `${` in it is interpolated
        return values
    if kind == "array":
        return [_value(c, variables) for c in node.children if c.type not in {"[", "]", "comment", ","}]
    if kind == "for_statement":
        return [_value(next(c for c in node.children if c.type == "object"), variables)]
    if kind == "string":
        raw = text(node)
        return Interpolated(raw) if "${" in raw else raw.strip("'")
    if kind == "number":
        return int(text(node))
    if kind == "boolean":
        return text(node) == "true"
    if kind == "null":
        return None
    if kind == "ternary_expression":
        parts = [c for c in node.children if c.type not in {"?", ":"}]
        return Either(tuple(_value(p, variables) for p in parts[1:]))
    if kind == "parenthesized_expression":
        return _value(node.children[1], variables)
    if kind == "identifier" and text(node) in variables:
        variable = variables[text(node)]
        return _value(variable.children[-1], variables)
    return Unknown(text(node))


@dataclass(frozen=True)
class ResourceFunctionCall:
    """`listKeys(resourceId('Microsoft.Web/sites/host', ...), '2024-04-01').functionKeys.default` and the like."""

    path: Path
    line: int
    function: str
    type: str
    api_version: str
    members: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.function.casefold()} {self.type}@{self.api_version}"


_RESOURCE_FUNCTION = re.compile(
    r"\b(list\w*)\(resourceId\('([^']+)'[^()]*(?:\([^()]*\)[^()]*)*\),\s*'([^']+)'\)((?:\.\w+)*)"
)


def resource_function_calls(paths: list[Path]) -> Iterator[ResourceFunctionCall]:
    for path in paths:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for match in _RESOURCE_FUNCTION.finditer(line):
                function, resource_type, api_version, members = match.groups()
                yield ResourceFunctionCall(
                    path, number, function, resource_type, api_version, tuple(filter(None, members.split(".")))
                )
