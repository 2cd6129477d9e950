"""The generic table repository against real Azurite."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Literal
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel, Field

from shared.core.errors import Conflict, InvalidInput, NotFound
from shared.runtime import Runtime
from shared.storage.repository import TableRepository


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Priority(IntEnum):
    LOW = 1
    HIGH = 9


class Address(BaseModel):
    line: str
    postcode: str | None = None


class Everything(BaseModel):
    group: str
    key: str
    text: str = ""
    small: int = 0
    big: int = 0
    ratio: float = 0.0
    flag: bool = False
    when: datetime | None = None
    day: date | None = None
    at: time | None = None
    ident: UUID | None = None
    amount: Decimal | None = None
    colour: Colour = Colour.RED
    priority: Priority = Priority.LOW
    kind: Literal["a", "b"] = "a"
    blob: bytes = b""
    tags: list[str] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    address: Address | None = None
    addresses: list[Address] = Field(default_factory=list)
    maybe: str | None = None
    required_maybe: str | None


class EverythingRepository(TableRepository[Everything]):
    table_name = "everything"
    model = Everything

    def keys(self, item: Everything) -> tuple[str, str]:
        return item.group, item.key


@pytest.fixture
def repo(runtime: Runtime) -> EverythingRepository:
    return runtime.platform.tables.control(EverythingRepository)


def full_item(group: str = "g", key: str = "k") -> Everything:
    return Everything(
        group=group,
        key=key,
        text="héllo, wörld \u2603",
        small=-42,
        big=2**53 + 1,
        ratio=3.25,
        flag=True,
        when=datetime(2025, 3, 18, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5))),
        day=date(2025, 3, 18),
        at=time(14, 30),
        ident=uuid4(),
        amount=Decimal("12.50"),
        colour=Colour.BLUE,
        priority=Priority.HIGH,
        kind="b",
        blob=b"\x00\x01\xffbinary",
        tags=["a", "b"],
        counts={"x": 1},
        address=Address(line="1 Main St"),
        addresses=[Address(line="2 High St", postcode="AB1 2CD")],
        required_maybe=None,
    )


def test_every_field_type_round_trips(repo: EverythingRepository) -> None:
    item = full_item()
    repo.create(item)
    stored = repo.get("g", "k")
    assert stored == item
    assert stored.when is not None and stored.when.utcoffset() == timedelta(0)  # stored and returned in UTC
    assert stored.when == datetime(2025, 3, 18, 19, 0, 0, 123456, tzinfo=UTC)


def test_defaults_and_none_round_trip(repo: EverythingRepository) -> None:
    item = Everything(group="g", key="empty", required_maybe=None)
    repo.create(item)
    assert repo.get("g", "empty") == item


def test_naive_datetimes_are_refused(repo: EverythingRepository) -> None:
    with pytest.raises(InvalidInput, match="without a time zone"):
        repo.create(Everything(group="g", key="naive", when=datetime(2025, 1, 1), required_maybe=None))


def test_create_twice_is_a_conflict_and_missing_rows_are_not_found(repo: EverythingRepository) -> None:
    repo.create(full_item())
    with pytest.raises(Conflict, match="already exists"):
        repo.create(full_item())
    with pytest.raises(NotFound):
        repo.get("g", "nope")
    assert repo.find("g", "nope") is None


def test_stale_etag_is_a_conflict_and_nothing_changes(repo: EverythingRepository) -> None:
    first = repo.create(full_item())
    second = repo.replace(first.item.model_copy(update={"text": "second"}), first.etag)
    with pytest.raises(Conflict, match="changed by someone else"):
        repo.replace(first.item.model_copy(update={"text": "stale"}), first.etag)
    with pytest.raises(Conflict):
        repo.delete("g", "k", etag=first.etag)
    current = repo.get_versioned("g", "k")
    assert current.item.text == "second"
    assert current.etag == second.etag
    repo.delete("g", "k", etag=current.etag)
    assert repo.find("g", "k") is None


def test_upsert_replaces_the_whole_row(repo: EverythingRepository) -> None:
    repo.create(full_item())
    repo.upsert(Everything(group="g", key="k", text="only this", required_maybe=None))
    stored = repo.get("g", "k")
    assert stored.text == "only this"
    assert stored.tags == [] and stored.address is None


def test_transaction_is_all_or_nothing(repo: EverythingRepository) -> None:
    repo.create(full_item(key="existing"))
    with pytest.raises(Conflict, match="not applied"):
        repo.transaction(
            [
                ("create", full_item(key="new-1")),
                ("create", full_item(key="existing")),  # fails, so new-1 must not be written either
            ]
        )
    assert repo.find("g", "new-1") is None
    repo.transaction([("create", full_item(key="new-1")), ("upsert", full_item(key="existing"))])
    assert repo.find("g", "new-1") is not None


def test_transaction_with_stale_etag_writes_nothing(repo: EverythingRepository) -> None:
    stored = repo.create(full_item(key="a"))
    repo.replace(stored.item.model_copy(update={"small": 1}), stored.etag)
    with pytest.raises(Conflict):
        repo.transaction(
            [("create", full_item(key="b")), ("replace", stored.item.model_copy(update={"small": 2}))],
            etags={1: stored.etag},
        )
    assert repo.find("g", "b") is None
    assert repo.get("g", "a").small == 1


def test_transaction_must_stay_in_one_partition(repo: EverythingRepository) -> None:
    with pytest.raises(InvalidInput, match="one partition"):
        repo.transaction([("create", full_item("p1", "a")), ("create", full_item("p2", "a"))])


@pytest.mark.parametrize(
    "hostile",
    [
        "a/b",
        "back\\slash",
        "hash#tag",
        "what?",
        "100%",
        "tilde~7E",
        "quote's",
        "tab\tnew\nline\x00nul\x7fdel\x85nel",
        "  spaced  ",
        "emoji \U0001f600",
    ],
)
def test_hostile_keys_round_trip_for_point_reads_queries_and_deletes(repo: EverythingRepository, hostile: str) -> None:
    repo.create(full_item(group=hostile, key=hostile))
    assert repo.get(hostile, hostile).key == hostile
    assert [i.key for i in repo.iterate(hostile)] == [hostile]
    stored = repo.get_versioned(hostile, hostile)
    repo.replace(stored.item.model_copy(update={"text": "changed"}), stored.etag)
    assert repo.get(hostile, hostile).text == "changed"
    repo.delete(hostile, hostile)
    assert repo.find(hostile, hostile) is None


def test_paging_walks_every_row_once_in_key_order(repo: EverythingRepository) -> None:
    keys = [f"k{i:03d}" for i in range(25)]
    for start in range(0, 25, 10):
        repo.transaction([("create", full_item("paged", k)) for k in keys[start : start + 10]])
    seen: list[str] = []
    continuation = None
    pages = 0
    while True:
        page = repo.page("paged", page_size=10, continuation=continuation)
        seen += [item.key for item in page.items]
        pages += 1
        continuation = page.continuation
        if continuation is None:
            break
    assert seen == keys
    assert pages == 3


def test_filter_query_with_parameters(repo: EverythingRepository) -> None:
    for index in range(5):
        repo.create(full_item("q", f"k{index}").model_copy(update={"small": index}))
    found = repo.page("q", query="small ge @least", parameters={"least": 3}).items
    assert [item.key for item in found] == ["k3", "k4"]


def test_bad_continuation_token_is_invalid_input(repo: EverythingRepository) -> None:
    with pytest.raises(InvalidInput, match="continuation token"):
        repo.page("g", continuation="not-a-token")


def test_oversized_string_is_refused_before_writing(repo: EverythingRepository) -> None:
    with pytest.raises(InvalidInput, match="too long"):
        repo.create(Everything(group="g", key="huge", text="x" * 40000, required_maybe=None))
    assert repo.find("g", "huge") is None
