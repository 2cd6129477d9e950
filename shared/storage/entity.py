"""Pydantic model <-> Azure Table entity.

Scalars map to the native property types (string, Int32/Int64, Double, Boolean, DateTime, Binary). Datetimes
must be timezone-aware and are stored in UTC. Everything the table service has no type for (dates, UUIDs,
decimals, enums) is stored as its JSON text form, and containers and nested models as one JSON string; on the
way back pydantic validates them into the declared types. A None value is not stored (tables have no null).
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel

from shared.core.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

RESERVED_PROPERTIES = frozenset({"PartitionKey", "RowKey", "Timestamp", "etag", "odata.etag"})
_INT32 = range(-(2**31), 2**31)
_MAX_STRING_BYTES = 64 * 1024  # UTF-16, per property
_CONTAINERS = (list, tuple, set, frozenset, dict)


def _is_structured(annotation: Any) -> bool:
    """Whether a field's declared type is a container or a model (and so is stored as JSON)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_structured(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_structured(arm) for arm in typing.get_args(annotation) if arm is not type(None))
    if origin is not None:
        return origin in _CONTAINERS or (isinstance(origin, type) and issubclass(origin, _CONTAINERS))
    return isinstance(annotation, type) and (issubclass(annotation, (BaseModel, *_CONTAINERS)))


@cache
def _structured_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(name for name, field in model.model_fields.items() if _is_structured(field.annotation))


@cache
def _required_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(name for name, field in model.model_fields.items() if field.is_required())


def _check_string(name: str, value: str) -> str:
    if len(value) * 2 > _MAX_STRING_BYTES and len(value.encode("utf-16-le")) > _MAX_STRING_BYTES:
        raise InvalidInput(f"The value of {name} is too long to store (64 KiB at most).", {name: "too long"})
    return value


def _json_value(item: BaseModel, name: str) -> Any:
    """One field in its JSON form (per field, so that a bytes field elsewhere never has to be JSON)."""
    return item.model_dump(mode="json", include={name})[name]


def to_properties(item: BaseModel) -> dict[str, Any]:
    """The entity properties of a model (without PartitionKey/RowKey)."""
    from azure.data.tables import EdmType, EntityProperty

    model = type(item)
    structured = _structured_fields(model)
    python_values = item.model_dump(mode="python")
    properties: dict[str, Any] = {}
    for name, value in python_values.items():
        if name in RESERVED_PROPERTIES:
            raise InvalidInput(f"{model.__name__}.{name} clashes with a reserved table property name.")
        if value is None:
            continue
        if isinstance(value, Enum):
            value = value.value
        if name in structured:
            properties[name] = _check_string(name, json.dumps(_json_value(item, name), separators=(",", ":")))
        elif isinstance(value, bool | float | bytes):
            properties[name] = value
        elif isinstance(value, int):
            properties[name] = value if value in _INT32 else EntityProperty(value, EdmType.INT64)
        elif isinstance(value, datetime):
            if value.tzinfo is None:
                raise InvalidInput(f"{model.__name__}.{name} is a datetime without a time zone; store UTC times.")
            properties[name] = value.astimezone(UTC)
        elif isinstance(value, str):
            properties[name] = _check_string(name, value)
        else:
            # date, time, UUID, Decimal, ...: their JSON text form, which pydantic parses back.
            properties[name] = _check_string(name, str(_json_value(item, name)))
    return properties


def from_entity(model: type[M], entity: Mapping[str, Any]) -> M:
    """Rebuild a model from an entity, ignoring table-managed properties and ones the model no longer has."""
    structured = _structured_fields(model)
    data: dict[str, Any] = {}
    for name in model.model_fields:
        if name not in entity:
            if name in _required_fields(model):
                data[name] = None  # stored as absent because it was None
            continue
        value = entity[name]
        value = getattr(value, "value", value)  # Int64 comes back as an EntityProperty
        if name in structured and isinstance(value, str):
            value = json.loads(value)
        elif isinstance(value, datetime):
            utc = value.astimezone(UTC)  # a plain datetime, not the SDK's subclass
            value = datetime(*utc.timetuple()[:6], utc.microsecond, tzinfo=UTC)
        data[name] = value
    return model.model_validate(data)
