"""Rows written by every released schema version still read with today's code. tests/fixtures/rows/<version>/
holds each table's rows exactly as that version wrote them (tests/support/capture_rows.py keeps them); each is
written to Azurite as it is, then read through today's repository by its keys, and today's key templates must
give the same keys back. A model or key change that would orphan stored rows fails here: migrate the rows (and say
so in the upgrade notes), or keep reading the old form."""

from __future__ import annotations

import importlib
import json
import pkgutil
import secrets
from pathlib import Path
from typing import Any

import pytest
from azure.data.tables import TableServiceClient

import shared
from dev.host.azurite import Azurite
from shared.storage.keys import decode_key
from shared.storage.repository import TableRepository
from shared.storage.rows import write_rows

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rows"
FILES = sorted(FIXTURES.glob("*/*.json"))
ACCOUNTS = {"app": "connectorapp", "US": "connectorus", "EU": "connectoreu", "APAC": "connectorapac"}
# What an upgrade must never lose: what the organisation set up, what patients were told and what they asked.
ESSENTIAL = {"organisations", "fhirendpoints", "appointments", "smsmessages", "visitevents", "optouts"}


def repositories() -> dict[str, type[TableRepository[Any]]]:
    """Every table of today's code and its repository."""
    for module in pkgutil.walk_packages(shared.__path__, "shared."):
        importlib.import_module(module.name)
    found: dict[str, type[TableRepository[Any]]] = {}
    pending: list[type[TableRepository[Any]]] = list(TableRepository.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if getattr(cls, "table_name", None) and cls.__module__.startswith("shared."):  # not the tests' own
            found[cls.table_name] = cls
    return found


def test_todays_version_has_its_rows_kept() -> None:
    assert (FIXTURES / shared.__version__).is_dir(), (
        f"no rows of version {shared.__version__}: run `.venv/bin/python -m tests.support.capture_rows`"
    )
    for version in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        kept = {path.stem for path in version.glob("*.json")}
        assert ESSENTIAL <= kept, f"{version.name} lacks {ESSENTIAL - kept}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_stored_row_reads_with_todays_code(path: Path, azurite: Azurite) -> None:
    document = json.loads(path.read_text())
    table = document["table"]
    repository = repositories().get(table)
    assert repository is not None, f"{path.parent.name} stored rows in {table}, which no repository reads any more"
    service = TableServiceClient.from_connection_string(azurite.connection_string(ACCOUNTS[document["account"]]))
    client = service.get_table_client("r" + secrets.token_hex(5) + table)
    try:
        assert write_rows(client, document["rows"]) == len(document["rows"])
        repo = repository(client)
        for row in document["rows"]:
            keys = decode_key(row["PartitionKey"]), decode_key(row["RowKey"])
            item = repo.get(*keys)  # validates against today's model
            assert repo.keys(item) == keys, f"today's keys of {table} no longer find the stored row"
            assert item in list(repo.iterate(keys[0]))
    finally:
        client.delete_table()
