"""Backing up the control plane to a blob container and restoring it. Azure Tables have no point-in-time restore,
so this is how a deleted or damaged configuration comes back: organisations, FHIR endpoints and who owns their
URLs, HL7 certificates (their public parts: the table holds nothing else), consents, phone numbers and what they
are linked to, SMS and writeback settings, the audit log, and from each geography's account the opt-outs and the
clinicians' Microsoft 365 links.

Left out, on purpose (LEFT_OUT says why for each table): the data plane's short-lived rows (appointments and their
texts, reminders, meeting links, visit events and invites: rebuilt by the EHR's next HL7 messages and launches)
and the report history (visit summaries and call quality), and what the app rebuilds by itself. Secrets stay in
Key Vault (soft delete and purge protection keep them), which a restore into a new deployment must copy over.

A backup is one gzip'd JSON blob, `control-plane-<UTC time>.json.gz`: each table's rows exactly as stored
(shared/storage/rows.py), with the connector's version. A restore writes them back as they are; today's code reads
rows of earlier versions (tests/integration/test_stored_rows.py)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import __version__
from shared.core.identity import CredentialFactory
from shared.core.settings.storage import is_emulator_connection_string
from shared.storage.accounts import StorageAccount
from shared.storage.rows import read_rows, write_rows

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

FORMAT = 1
CONTROL: tuple[str, ...] = ("organisations", "fhirendpoints", "endpointurls", "urlowners", "certificates")
CONTROL += ("consents", "phonenumbers", "smssettings", "writebacksettings", "auditlog")
DATA = ("optouts", "ehrusers")  # in each geography's account
LEFT_OUT = {
    "launchstates": "sign-in states live minutes",
    "phonenumberjobs": "finished jobs; a number being bought when the tables were lost is in ACS, and is added again",
    "smsoutbox": "local runs only",
    "smssendslots": "each sender's rate limiter, rebuilt as texts go",
    "poisonqueues": "counts, taken again every hour",
    "meetingsubscriptions": "data plane: renewed or made again by the subscription timer",
    "callrecordsubscriptions": "made again by the call-records timer",
    "meetingjoins": "data plane: join URLs of meetings with call events, kept 30 days",
    "remindercursor": "where the reminder timer got to, found again",
    "writebackfailures": "failed writebacks to replay: short-lived",
    "launchproblems": "each endpoint's last failed launch: the next failure writes it again",
    "appointments": "data plane, short-lived: the EHR's next HL7 messages bring them again",
    "meetinglinks": "data plane, short-lived: the next launch makes the meeting again",
    "reminderindex": "data plane, short-lived: rebuilt with the appointments",
    "smsmessages": "data plane, short-lived: what was texted, for the reports",
    "replymarkers": "data plane: the day each number last got an answer to a reply, found again within a day",
    "visitevents": "data plane, short-lived: who joined and left",
    "visitinvites": "data plane, short-lived: guests' links",
    "latenotices": "data plane, short-lived: when each visit's last late notice went",
    "visitsummaries": "report history: the visits report starts again from the restore",
    "callquality": "report history: the call-quality report starts again from the restore",
    "visitsurveys": "report history: the survey report starts again from the restore",
}


@dataclass(frozen=True)
class Storage:
    """Where the tables are: the app's account and each geography's, and the deployment's table prefix."""

    app: StorageAccount
    geographies: Mapping[str, StorageAccount]
    prefix: str = ""

    def tables(self) -> list[tuple[str, str, StorageAccount]]:
        """(table, account label, account) of everything backed up."""
        found = [(table, "app", self.app) for table in CONTROL]
        for geography, account in sorted(self.geographies.items()):
            found += [(table, geography, account) for table in DATA]
        return found


def account(label: str, setting: str, credential: CredentialFactory, suffix: str) -> StorageAccount:
    """A storage account by name (reached as the operator) or, for Azurite, by connection string."""
    if "=" in setting and not is_emulator_connection_string(setting):
        raise ValueError(f"{label}: give the storage account's name, not a connection string")
    return StorageAccount(label, setting, credential, suffix)


def container(setting: str, name: str, credential: CredentialFactory, suffix: str) -> ContainerClient:
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import ContainerClient

    if "=" in setting:
        client = ContainerClient.from_connection_string(setting, name)
    else:
        client = ContainerClient(f"https://{setting}.blob.{suffix}", name, credential=credential())
    try:
        client.create_container()
    except ResourceExistsError:
        pass
    return client


def backup(storage: Storage, target: ContainerClient, now: datetime) -> tuple[str, dict[str, int]]:
    """Write one backup; its blob name and the rows of each table."""
    tables = [
        {"table": table, "account": label, "rows": list(read_rows(account.table_service.get_table_client(name)))}
        for table, label, account in storage.tables()
        for name in [storage.prefix + table]
    ]
    document = {"format": FORMAT, "version": __version__, "taken_at": now.isoformat(), "tables": tables}
    name = f"control-plane-{now.strftime('%Y%m%dT%H%M%SZ')}.json.gz"
    target.upload_blob(name, gzip.compress(json.dumps(document).encode()), overwrite=False)
    return name, {f"{t['table']} ({t['account']})": len(t["rows"]) for t in tables}


def latest(source: ContainerClient) -> str:
    names = sorted(b.name for b in source.list_blobs(name_starts_with="control-plane-"))
    if not names:
        raise LookupError("The container holds no backup (control-plane-*.json.gz).")
    return names[-1]


class NotEmpty(Exception):
    """Restoring over a configuration would replace newer rows with older ones."""


def restore(storage: Storage, source: ContainerClient, name: str, *, overwrite: bool = False) -> dict[str, int]:
    """Write a backup's rows back as they are; the rows of each table. Refuses (NotEmpty) when the organisations
    table already holds rows, unless `overwrite`."""
    document: dict[str, Any] = json.loads(gzip.decompress(source.download_blob(name).readall()))
    if document.get("format") != FORMAT:
        raise ValueError(f"{name} is not a backup this version reads (format {document.get('format')}).")
    organisations = storage.app.table_service.get_table_client(storage.prefix + "organisations")
    if not overwrite and next(iter(read_rows(organisations)), None) is not None:
        raise NotEmpty("The storage already holds organisations: restore into empty storage, or pass --overwrite.")
    written: dict[str, int] = {}
    for table in document["tables"]:
        label = table["account"]
        account = storage.app if label == "app" else storage.geographies.get(label)
        if account is None:
            raise ValueError(f"The backup holds {table['table']} of geography {label}, which has no account here.")
        client = account.table_service.get_table_client(storage.prefix + table["table"])
        written[f"{table['table']} ({label})"] = write_rows(client, table["rows"])
    return written
