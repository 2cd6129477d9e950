"""Reading Bicep with tree-sitter-bicep (no Bicep compiler can be installed offline)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tree_sitter
import tree_sitter_bicep


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))


def text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode()


@dataclass(frozen=True)
class Declaration:
    kind: str  # parameter, variable, resource, module, output
    name: str
    node: tree_sitter.Node
    decorators: str  # the text of the decorators above it
    comment: str  # the comment line right above it, if any

    @property
    def source(self) -> str:
        return text(self.node)


class BicepFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = _parser().parse(path.read_bytes())

    @property
    def has_errors(self) -> bool:
        return self.tree.root_node.has_error

    def errors(self) -> list[str]:
        found: list[str] = []

        def walk(node: tree_sitter.Node) -> None:
            if node.type == "ERROR" or node.is_missing:
                found.append(f"line {node.start_point[0] + 1}: {text(node)[:60]!r}")
            for child in node.children:
                walk(child)

        walk(self.tree.root_node)
        return found

    def declarations(self) -> Iterator[Declaration]:
        children = self.tree.root_node.children
        for index, node in enumerate(children):
            if not node.type.endswith("_declaration"):
                continue
            kind = node.type.removesuffix("_declaration")
            name = next((text(c) for c in node.children if c.type == "identifier"), "")
            before = children[index - 1] if index else None
            decorators = text(before) if before is not None and before.type == "decorators" else ""
            comment = text(before) if before is not None and before.type == "comment" else ""
            yield Declaration(kind, name, node, decorators, comment)

    def of_kind(self, kind: str) -> list[Declaration]:
        return [d for d in self.declarations() if d.kind == kind]

    def get(self, kind: str, name: str) -> Declaration:
        return next(d for d in self.declarations() if d.kind == kind and d.name == name)

    def module_path(self, module: Declaration) -> Path:
        path = next(text(c) for c in module.node.children if c.type == "string").strip("'")
        return (self.path.parent / path).resolve()


def string_values(node: tree_sitter.Node, property_name: str) -> list[str]:
    """The string values of every `property_name: '...'` inside a node (interpolations left as written)."""
    values: list[str] = []

    def walk(current: tree_sitter.Node) -> None:
        if current.type == "object_property":
            key, *rest = [c for c in current.children if c.type not in (":",)]
            if text(key) == property_name and rest and rest[-1].type == "string":
                values.append(text(rest[-1]).strip("'"))
        for child in current.children:
            walk(child)

    walk(node)
    return values


def for_loop_source(declaration: Declaration) -> str | None:
    """`for x in y` of a declaration whose value is a loop, else None."""
    match = re.search(r"\[\s*for\s+(.+?)\s+in\s+(\w+)\s*:", declaration.source)
    return f"for {match.group(1)} in {match.group(2)}" if match else None
