"""A generic repository over one Azure table. Each table gets a one-line subclass naming its model and keys.

- Keys are escaped (see keys.py); the model's own fields are stored beside them, so models never see escaping.
- Optimistic concurrency: reads return an ETag; `replace(..., etag=)` and `delete(..., etag=)` raise `Conflict`
  when the row changed meanwhile.
- `transaction()` writes several rows of one partition atomically (all or nothing).
- `page()` returns one page and an opaque continuation token.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel

from shared.core.errors import Conflict, InvalidInput, NotFound, Unprocessable
from shared.storage.entity import from_entity, to_properties
from shared.storage.keys import encode_key

if TYPE_CHECKING:
    from azure.data.tables import TableClient

M = TypeVar("M", bound=BaseModel)

MAX_TRANSACTION_SIZE = 100  # the service's limit per batch


@dataclass(frozen=True)
class Versioned(Generic[M]):
    """A stored row and the ETag to pass back for a conditional write."""

    item: M
    etag: str


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    continuation: str | None


Operation = Literal["create", "upsert", "replace", "delete"]


class TableRepository(Generic[M]):
    """A table of `M` rows. A subclass names its table and how a row's keys come from the model's fields, as
    `str.format` templates over the model's fields (`"{tenant_id}"`, `"{day}|{appointment_key}"`, `"{state:.2}"`,
    or a constant), in one line:

        class OrganisationRepository(TableRepository[Organisation], table="organisations",
                                     keys=("{tenant_id}", "organisation")): ...
    """

    table_name: ClassVar[str]
    model: type[M]
    key_templates: ClassVar[tuple[str, str]]

    def __init_subclass__(cls, *, table: str | None = None, keys: tuple[str, str] | None = None) -> None:
        super().__init_subclass__()
        if table is not None:
            cls.table_name = table
        if keys is not None:
            cls.key_templates = keys
        for base in getattr(cls, "__orig_bases__", ()):
            args = get_args(base)
            if get_origin(base) is TableRepository and args and isinstance(args[0], type):
                cls.model = args[0]

    def __init__(self, client: TableClient) -> None:
        self._client = client

    def keys(self, item: M) -> tuple[str, str]:
        """(partition key, row key) of an item, unescaped."""
        partition, row = self.key_templates
        return partition.format_map(vars(item)), row.format_map(vars(item))

    def _entity(self, item: M) -> dict[str, Any]:
        partition, row = self.keys(item)
        return {"PartitionKey": encode_key(partition), "RowKey": encode_key(row), **to_properties(item)}

    def _describe(self, partition: str, row: str) -> str:
        return f"{self.model.__name__} {partition}/{row}"

    def get(self, partition: str, row: str) -> M:
        return self.get_versioned(partition, row).item

    def get_versioned(self, partition: str, row: str) -> Versioned[M]:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            entity = self._client.get_entity(encode_key(partition), encode_key(row))
        except ResourceNotFoundError:
            raise NotFound(f"{self._describe(partition, row)} does not exist.") from None
        return Versioned(from_entity(self.model, entity), str(entity.metadata["etag"]))

    def find(self, partition: str, row: str) -> M | None:
        try:
            return self.get(partition, row)
        except NotFound:
            return None

    def create(self, item: M) -> Versioned[M]:
        """Insert a new row; `Conflict` when one with the same keys exists."""
        from azure.core.exceptions import ResourceExistsError

        try:
            metadata = self._client.create_entity(self._entity(item))
        except ResourceExistsError:
            raise Conflict(f"{self._describe(*self.keys(item))} already exists.") from None
        return Versioned(item, metadata["etag"])

    def upsert(self, item: M) -> Versioned[M]:
        """Insert or replace the whole row, whatever is stored."""
        from azure.data.tables import UpdateMode

        metadata = self._client.upsert_entity(self._entity(item), mode=UpdateMode.REPLACE)
        return Versioned(item, metadata["etag"])

    def replace(self, item: M, etag: str) -> Versioned[M]:
        """Replace a row only if it is unchanged since it was read with `etag`."""
        from azure.core import MatchConditions
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
        from azure.data.tables import UpdateMode

        try:
            metadata = self._client.update_entity(
                self._entity(item), mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        except ResourceNotFoundError:
            raise NotFound(f"{self._describe(*self.keys(item))} does not exist.") from None
        except HttpResponseError as exc:
            if exc.status_code == 412:
                raise Conflict(f"{self._describe(*self.keys(item))} was changed by someone else; reload it.") from None
            raise
        return Versioned(item, metadata["etag"])

    def delete(self, partition: str, row: str, etag: str | None = None) -> None:
        """Delete a row (no error if it is already gone); with `etag`, only if it is unchanged."""
        from azure.core import MatchConditions
        from azure.core.exceptions import HttpResponseError

        try:
            if etag is None:
                self._client.delete_entity(encode_key(partition), encode_key(row))
            else:
                self._client.delete_entity(
                    encode_key(partition), encode_key(row), etag=etag, match_condition=MatchConditions.IfNotModified
                )
        except HttpResponseError as exc:
            if exc.status_code == 412:
                raise Conflict(f"{self._describe(partition, row)} was changed by someone else; reload it.") from None
            raise

    def transaction(self, operations: Sequence[tuple[Operation, M]], etags: Mapping[int, str] | None = None) -> None:
        """Apply operations to rows of one partition atomically; `etags[i]` makes operation i conditional.

        Raises `Conflict` (and writes nothing) if any operation fails on the state of a row.
        """
        from azure.core import MatchConditions
        from azure.data.tables import TableTransactionError, UpdateMode

        if not operations:
            return
        if len(operations) == 1 and operations[0][0] in ("create", "upsert") and not etags:
            # One row is one transaction either way; sent as a batch it costs the client (multipart, parsed) and
            # the service (Azurite: three times the time) more.
            operation, item = operations[0]
            if operation == "create":
                self.create(item)
            else:
                self.upsert(item)
            return
        if len(operations) > MAX_TRANSACTION_SIZE:
            raise InvalidInput(f"A transaction holds at most {MAX_TRANSACTION_SIZE} operations.")
        partitions = {self.keys(item)[0] for _, item in operations}
        if len(partitions) > 1:
            raise InvalidInput("A transaction must stay within one partition.")
        etags = etags or {}
        batch: list[Any] = []
        for index, (operation, item) in enumerate(operations):
            entity = self._entity(item)
            conditional: dict[str, Any] = {}
            if index in etags:
                conditional = {"etag": etags[index], "match_condition": MatchConditions.IfNotModified}
            if operation == "create":
                batch.append(("create", entity))
            elif operation == "upsert":
                batch.append(("upsert", entity, {"mode": UpdateMode.REPLACE}))
            elif operation == "replace":
                batch.append(("update", entity, {"mode": UpdateMode.REPLACE, **conditional}))
            else:
                keys_only = {"PartitionKey": entity["PartitionKey"], "RowKey": entity["RowKey"]}
                batch.append(("delete", keys_only, conditional))
        try:
            self._client.submit_transaction(batch)
        except TableTransactionError as exc:
            code = getattr(exc, "error_code", None) or "rejected"
            raise Conflict(
                f"The {self.model.__name__} changes were not applied (operation {exc.index}: {code})."
            ) from None

    def page(
        self,
        partition: str | None = None,
        *,
        query: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        page_size: int = 100,
        continuation: str | None = None,
    ) -> Page[M]:
        """One page of rows, in key order, optionally within a partition and matching an OData filter."""
        token = _decode_continuation(continuation)
        pages = self._pages(partition, query, parameters, page_size).by_page(continuation_token=token)
        items = [from_entity(self.model, entity) for entity in next(pages, [])]
        next_token = getattr(pages, "continuation_token", None)
        return Page(items, _encode_continuation(next_token))

    def iterate(
        self, partition: str | None = None, *, query: str | None = None, parameters: Mapping[str, Any] | None = None
    ) -> Iterator[M]:
        for entity in self._pages(partition, query, parameters, 1000):
            yield from_entity(self.model, entity)

    def _pages(
        self, partition: str | None, query: str | None, parameters: Mapping[str, Any] | None, page_size: int
    ) -> Any:
        clauses = []
        params = dict(parameters or {})
        if partition is not None:
            clauses.append("PartitionKey eq @pk_")
            params["pk_"] = encode_key(partition)
        if query:
            clauses.append(f"( {query} )")  # spaces: the SDK finds @parameters by splitting on them
        if not clauses:
            return self._client.list_entities(results_per_page=page_size)
        return self._client.query_entities(" and ".join(clauses), parameters=params, results_per_page=page_size)


def _encode_continuation(token: Any) -> str | None:
    if not token:
        return None
    return base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode()


def _decode_continuation(value: str | None) -> Any:
    if not value:
        return None
    try:
        token = json.loads(base64.urlsafe_b64decode(value.encode()))
    except (binascii.Error, ValueError):
        raise Unprocessable("The continuation token is not valid; start again from the first page.") from None
    if not isinstance(token, dict):
        raise Unprocessable("The continuation token is not valid; start again from the first page.")
    return token
