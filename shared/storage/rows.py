"""Table rows as JSON, exactly as the table service keeps them: the escaped PartitionKey and RowKey, and every
property with its type in the service's own JSON form (`name@odata.type`: Edm.Int64 as text, Edm.DateTime as
ISO 8601, Edm.Binary as base64, Edm.Double, Edm.Guid). Backups (ops/backup.py) and the fixtures of each schema
version's rows (tests/fixtures/rows/) are written in it, and written back to a table unchanged."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.data.tables import TableClient

SKIPPED = frozenset({"Timestamp", "etag", "odata.etag"})
TYPE = "@odata.type"


def to_json(entity: Mapping[str, Any]) -> dict[str, Any]:
    """A stored entity (as the SDK reads it) in the service's typed JSON form."""
    row: dict[str, Any] = {}
    for name, raw in entity.items():
        if name in SKIPPED:
            continue
        edm = getattr(getattr(raw, "edm_type", None), "value", None)  # an EntityProperty (Int64 and the like)
        value = getattr(raw, "value", raw) if edm else raw
        if isinstance(value, bool) or isinstance(value, str) and edm in (None, "Edm.String"):
            row[name] = value
        elif isinstance(value, int):
            if edm == "Edm.Int64":
                row[name], row[name + TYPE] = str(value), "Edm.Int64"
            else:
                row[name] = value
        elif isinstance(value, float):
            row[name], row[name + TYPE] = value, "Edm.Double"
        elif isinstance(value, datetime):
            utc = value.astimezone(UTC)
            row[name], row[name + TYPE] = utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "Edm.DateTime"
        elif isinstance(value, bytes):
            row[name], row[name + TYPE] = base64.b64encode(value).decode(), "Edm.Binary"
        elif isinstance(value, uuid.UUID):
            row[name], row[name + TYPE] = str(value), "Edm.Guid"
        else:
            raise ValueError(f"Property {name} has a type the table service does not store: {type(value).__name__}")
    return row


def from_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """The entity to write for a row in the typed JSON form."""
    from azure.data.tables import EdmType, EntityProperty

    entity: dict[str, Any] = {}
    for name, value in row.items():
        if name.endswith(TYPE):
            continue
        edm = row.get(name + TYPE)
        if edm is None:
            entity[name] = value
        elif edm == "Edm.Int64":
            entity[name] = EntityProperty(int(value), EdmType.INT64)
        elif edm == "Edm.Double":
            entity[name] = float(value)
        elif edm == "Edm.DateTime":
            entity[name] = datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif edm == "Edm.Binary":
            entity[name] = base64.b64decode(value)
        elif edm == "Edm.Guid":
            entity[name] = uuid.UUID(value)
        else:
            raise ValueError(f"Property {name} has an unknown type {edm}")
    return entity


def read_rows(client: TableClient) -> Iterator[dict[str, Any]]:
    """Every row of a table (none when the table does not exist)."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        for entity in client.list_entities(results_per_page=1000):
            yield to_json(entity)
    except ResourceNotFoundError:
        return


def write_rows(client: TableClient, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write rows as they are (insert or replace), in batches of one partition; how many were written."""
    from azure.core.exceptions import ResourceExistsError
    from azure.data.tables import UpdateMode

    try:
        client.create_table()
    except ResourceExistsError:
        pass
    by_partition: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        entity = from_json(row)
        by_partition.setdefault(entity["PartitionKey"], []).append(entity)
    written = 0
    for entities in by_partition.values():
        for start in range(0, len(entities), 100):  # the service's limit per batch
            batch = entities[start : start + 100]
            client.submit_transaction([("upsert", entity, {"mode": UpdateMode.REPLACE}) for entity in batch])
            written += len(batch)
    return written
