"""The cost estimate: the README's table is what bench/costs.py computes from the counts the tests hold, and a
request is classified as the storage service bills it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import costs
from shared.storage.metering import operation

ROOT = Path(__file__).resolve().parents[2]


def test_the_readmes_totals_are_the_estimate_from_the_held_counts() -> None:
    per_unit = {name: costs.parse(held) for name, held in costs._HELD.items()}
    totals = [sum(costs.monthly(visits, numbers, per_unit).values()) for _, visits, numbers in costs.SCENARIOS]
    section = (ROOT / "README.md").read_text().split("## What it costs", 1)[1].split("## Deploy", 1)[0]
    shown = re.search(r"\*\*total\*\* \| \*\*\$([\d,.]+)\*\* \| \*\*\$([\d,.]+)\*\*", section)
    assert shown is not None
    assert [f"{total:,.2f}" for total in totals] == [shown.group(1), shown.group(2)]


@pytest.mark.parametrize(
    ("service", "method", "url", "expected"),
    [
        ("table", "GET", "http://127.0.0.1:10002/acct/visits(PartitionKey='a',RowKey='b')", ("visits", "read")),
        ("table", "GET", "https://acct.table.core.windows.net/visits()?$filter=x", ("visits", "query")),
        ("table", "POST", "https://acct.table.core.windows.net/visits", ("visits", "insert")),
        (
            "table",
            "PUT",
            "https://acct.table.core.windows.net/visits(PartitionKey='a',RowKey='b')",
            ("visits", "upsert"),
        ),
        (
            "table",
            "PATCH",
            "https://acct.table.core.windows.net/visits(PartitionKey='a',RowKey='b')",
            ("visits", "merge"),
        ),
        ("table", "POST", "https://acct.table.core.windows.net/Tables", ("Tables", "create")),
        ("queue", "POST", "http://localhost:10001/acct/sms-outbound/messages", ("sms-outbound", "put")),
        (
            "queue",
            "GET",
            "https://acct.queue.core.windows.net/sms-outbound/messages?numofmessages=16",
            ("sms-outbound", "get"),
        ),
        (
            "queue",
            "DELETE",
            "https://acct.queue.core.windows.net/sms-outbound/messages/1?popreceipt=x",
            ("sms-outbound", "delete"),
        ),
        (
            "queue",
            "PUT",
            "https://acct.queue.core.windows.net/sms-outbound/messages/1?popreceipt=x",
            ("sms-outbound", "update"),
        ),
        (
            "queue",
            "GET",
            "https://acct.queue.core.windows.net/sms-outbound?comp=metadata",
            ("sms-outbound", "metadata"),
        ),
    ],
)
def test_storage_requests_are_named_by_table_or_queue_and_kind(
    service: str, method: str, url: str, expected: tuple[str, str]
) -> None:
    assert operation(service, method, url) == expected


def test_a_batch_is_named_by_its_table() -> None:
    body = (
        b"--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_1\r\n\r\n--changeset_1\r\n"
        b"DELETE https://acct.table.core.windows.net/reminderindex(PartitionKey='a',RowKey='b') HTTP/1.1\r\n"
    )
    assert operation("table", "POST", "https://acct.table.core.windows.net/$batch", body) == ("reminderindex", "batch")
