"""A JSON Schema (draft-07) validator for the keywords the vendored schemas use, and no more: the venv has no
jsonschema package. A keyword it does not know fails loudly, so a refreshed schema cannot be half-checked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_ANNOTATIONS = {"$schema", "$id", "$comment", "title", "description", "default", "examples", "definitions"}
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "number": (int, float),
}


class UnsupportedSchema(ValueError):
    """The schema uses a keyword this validator does not implement."""


class Validator:
    def __init__(self, schema: dict[str, Any]) -> None:
        self._root = schema

    def errors(self, instance: Any) -> list[str]:
        """Every violation, as `<JSON pointer>: <what is wrong>`; empty when the instance is valid."""
        return list(self._check(self._root, instance, ""))

    def _resolve(self, reference: str) -> Any:
        if not reference.startswith("#/"):
            raise UnsupportedSchema(f"only local references are supported, not {reference}")
        node: Any = self._root
        for part in reference[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _check(self, schema: Any, instance: Any, at: str) -> Iterator[str]:
        if schema is True:
            return
        if schema is False:
            yield f"{at or '/'}: no value is allowed here"
            return
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            check = getattr(self, "_" + keyword.lstrip("$"), None)
            if check is None:
                raise UnsupportedSchema(f"keyword {keyword!r} is not implemented")
            yield from check(value, schema, instance, at)

    def _ref(self, value: str, schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        yield from self._check(self._resolve(value), instance, at)

    def _type(self, value: str | list[str], schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        names = [value] if isinstance(value, str) else value
        if any(_is_type(instance, name) for name in names):
            return
        yield f"{at or '/'}: {instance!r} is not of type {' or '.join(names)}"

    def _enum(self, value: list[Any], schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        if not any(_same(instance, option) for option in value):
            yield f"{at or '/'}: {instance!r} is not one of {value}"

    def _const(self, value: Any, schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        if not _same(instance, value):
            yield f"{at or '/'}: {instance!r} is not {value!r}"

    def _pattern(self, value: str, schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        if isinstance(instance, str) and not re.search(value, instance):
            yield f"{at or '/'}: {instance!r} does not match {value}"

    def _minLength(self, value: int, schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        if isinstance(instance, str) and len(instance) < value:
            yield f"{at or '/'}: {instance!r} is shorter than {value}"

    def _minimum(self, value: float, schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        if _is_number(instance) and instance < value:
            yield f"{at or '/'}: {instance} is less than {value}"

    def _maximum(self, value: float, schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        if _is_number(instance) and instance > value:
            yield f"{at or '/'}: {instance} is more than {value}"

    def _required(self, value: list[str], schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        if isinstance(instance, dict):
            for name in value:
                if name not in instance:
                    yield f"{at or '/'}: {name!r} is required"

    def _properties(self, value: dict[str, Any], schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        if isinstance(instance, dict):
            for name, subschema in value.items():
                if name in instance:
                    yield from self._check(subschema, instance[name], f"{at}/{name}")

    def _additionalProperties(self, value: Any, schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        if not isinstance(instance, dict):
            return
        declared = schema.get("properties", {})
        if "patternProperties" in schema:
            raise UnsupportedSchema("keyword 'patternProperties' is not implemented")
        for name, item in instance.items():
            if name in declared:
                continue
            if value is False:
                yield f"{at}/{name}: property {name!r} is not declared"
            else:
                yield from self._check(value, item, f"{at}/{name}")

    def _items(self, value: Any, schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        if isinstance(value, list):
            raise UnsupportedSchema("tuple 'items' are not implemented")
        if isinstance(instance, list):
            for index, item in enumerate(instance):
                yield from self._check(value, item, f"{at}/{index}")

    def _uniqueItems(self, value: bool, schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        if value and isinstance(instance, list):
            for index, item in enumerate(instance):
                if any(_same(item, earlier) for earlier in instance[:index]):
                    yield f"{at}/{index}: {item!r} repeats an earlier item"

    def _oneOf(self, value: list[Any], schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        results = [list(self._check(option, instance, at)) for option in value]
        passing = sum(1 for errors in results if not errors)
        if passing == 1:
            return
        if passing > 1:
            yield f"{at or '/'}: matches {passing} of the oneOf schemas, not exactly one"
            return
        closest = min(results, key=lambda errors: len(errors))
        yield f"{at or '/'}: matches none of the oneOf schemas; the closest fails with: " + "; ".join(closest)

    def _anyOf(self, value: list[Any], schema: dict[str, Any], instance: Any, at: str) -> Iterator[str]:
        results = [list(self._check(option, instance, at)) for option in value]
        if all(results):
            closest = min(results, key=lambda errors: len(errors))
            yield f"{at or '/'}: matches none of the anyOf schemas; the closest fails with: " + "; ".join(closest)


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":  # draft-07: 1.0 is an integer
        return _is_number(value) and float(value).is_integer()
    return isinstance(value, _TYPES[name]) and (name == "boolean" or not isinstance(value, bool))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(left: Any, right: Any) -> bool:
    """JSON equality: true is not 1."""
    return (
        type(left) is type(right) and left == right
        if isinstance(left, bool) or isinstance(right, bool)
        else (left == right)
    )
