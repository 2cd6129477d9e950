"""The soak's privacy invariants (bench/soak.py), checked over everything kept:

- every table and queue (poison queues too) of every storage account holds no patient name, birth date, MRN,
  address, message text, join-link token or raw HL7; a patient's phone number only on that appointment's own row
  while the appointment is not over; the EU organisation's data (its appointments' keys, its tenant ID in data
  rows) only in the EU account;
- after one retention run past the last appointment, no phone number anywhere;
- no phone number, name, token or EHR user ID in any log line or span the instances wrote.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.soak_load import Appointment
from shared.core.settings import Geography

if TYPE_CHECKING:
    from bench.harness import Harness
    from bench.soak_checks import Organisation
    from dev.fakes.sandbox_ehr import SandboxEhr
    from tests.support.acs_stub import AcsStub

PHONE = re.compile(r"(?<!\d)(?:\+?1)?\(?217\)?[ .^-]?555[ .-]?(\d{4})(?!\d)")
NAME = re.compile(r"Quillfeather\d{5}|Marisol\d{5}")
MRN = re.compile(r"MRN\d{7}X")
ADDRESS = re.compile(r"Larkspur Way")
EHR_USER = re.compile(r"SOAKDR\d{5}")
RAW_HL7 = re.compile(r"MSH\|\^~|\rPID\||\bSCH\|\|")
TOKENISH = re.compile(r"[A-Za-z0-9_~.-]{16,}")
CONTROL_TABLES = ("organisations", "endpoints", "smssettings", "certificates", "audit", "phonenumbers")


def scan(
    harness: Harness,
    ehrs: list[SandboxEhr],
    stub: AcsStub,
    organisations: list[Organisation],
    appointments: list[Appointment],
    logs: Path,
    now: datetime,
) -> tuple[list[str], dict[str, int]]:
    """The findings (each saying where, never the value found) and how much was scanned."""
    from bench.soak_checks import past_every_appointment

    tokens = _tokens(stub)
    bodies = {str(text["message"]) for text in stub.sent}
    births = {a.patient.birth_date for a in appointments}
    eu = next(o for o in organisations if o.geography == "EU")
    eu_keys = {eu.key(a) for a in appointments if a.organisation == organisations.index(eu)}
    by_index = {a.index: a for a in appointments}
    findings: list[str] = []
    scanned = {"rows": 0, "queue messages": 0, "log lines": 0}
    for account, where, text, row in _everything(harness):
        scanned["queue messages" if row is None else "rows"] += 1
        place = f"{account}/{where}"
        for label, pattern in (("name", NAME), ("MRN", MRN), ("address", ADDRESS), ("raw HL7", RAW_HL7)):
            if pattern.search(text):
                findings.append(f"{label} in {place}")
        if any(re.search(rf"(?<!\d){b}(?!\d)", text) for b in births if b in text):
            findings.append(f"birth date in {place}")
        if any(body in text for body in bodies):
            findings.append(f"message text in {place}")
        if any(t in tokens for t in TOKENISH.findall(text)):
            findings.append(f"join-link token in {place}")
        for match in PHONE.finditer(text):
            appointment = by_index.get(int(match.group(1)))
            if not _phone_allowed(appointment, row, where, now):
                findings.append(f"phone number in {place} (not its appointment's row, or the visit is over)")
                break
        if account != "connectoreu" and any(key in text for key in eu_keys):
            findings.append(f"EU appointment data in {place}")
        if account in ("connectorus", "connectorapac") and eu.tenant in text:
            findings.append(f"EU organisation row in {place}")
    _retention(harness, appointments, past_every_appointment(appointments))
    for account, where, text, _ in _everything(harness):
        if PHONE.search(text):
            findings.append(f"phone number in {account}/{where} after a retention run past the last appointment")
    secrets = tokens | {t for ehr in ehrs for t in ehr.backend_tokens} | {h.split()[-1] for h in harness.admin.values()}
    numbers = {o.number.lstrip("+") for o in organisations}  # the organisations' sender numbers
    for path in sorted([*logs.glob("*.log"), *logs.glob("*.spans")]):
        for number, line in enumerate(path.open(errors="replace"), 1):
            scanned["log lines"] += 1
            for label, pattern in (("phone number", PHONE), ("name", NAME), ("EHR user ID", EHR_USER)):
                if pattern.search(line):
                    findings.append(f"{label} in {path.name} line {number}")
            if any(n in line for n in numbers):
                findings.append(f"sender number in {path.name} line {number}")
            if any(t in secrets for t in TOKENISH.findall(line)):
                findings.append(f"token in {path.name} line {number}")
    return _dedupe(findings), scanned


def _tokens(stub: AcsStub) -> set[str]:
    """The join-link and survey tokens texted (each link's fragment)."""
    found = set()
    for text in stub.sent:
        for link in re.findall(r"https?://\S+#(\S+)", str(text["message"])):
            found.add(link.rstrip(".,)"))
    return found


def _phone_allowed(appointment: Appointment | None, row: dict[str, Any] | None, where: str, now: datetime) -> bool:
    """A patient's number may be kept on their appointment's own row until the visit ends."""
    if appointment is None or row is None or not where.split("/")[0].endswith("appointments"):
        return False
    end = row.get("end")
    return row.get("phone") == appointment.phone and isinstance(end, datetime) and end > now


def _everything(harness: Harness) -> Iterator[tuple[str, str, str, dict[str, Any] | None]]:
    """(account, table or queue, text, the row or None for a queue message) for every row and queue message."""
    from azure.data.tables import TableServiceClient
    from azure.storage.queue import QueueServiceClient

    for account in harness.azurite.accounts:
        connection = harness.azurite.connection_string(account)
        tables = TableServiceClient.from_connection_string(connection)
        for table in tables.list_tables():
            for entity in tables.get_table_client(table.name).list_entities():
                row = dict(entity)
                yield account, f"{table.name}/{str(row.get('RowKey'))[:12]}", json.dumps(row, default=str), row
        queues = QueueServiceClient.from_connection_string(connection)
        for queue in queues.list_queues():
            client = queues.get_queue_client(queue.name)
            # Received, not peeked (a peek sees 32 at most); the run is over, so their visibility does not matter.
            for message in client.receive_messages(messages_per_page=32, visibility_timeout=600):
                yield account, queue.name, _decoded(str(message.content)), None


def _decoded(content: str) -> str:
    try:
        return content + "\n" + base64.b64decode(content, validate=True).decode(errors="replace")
    except (binascii.Error, ValueError):
        return content


def _retention(harness: Harness, appointments: list[Appointment], after: datetime) -> None:
    """One retention run as the timer makes it, on a clock past the last appointment."""
    from shared.core.settings import load_settings
    from shared.runtime import Runtime
    from tests.support.clock import FakeClock

    runtime = Runtime(load_settings(), clock=FakeClock(after))
    for geography in (Geography.EU, Geography.US):
        runtime.scheduling.retention.run(geography)


def _dedupe(findings: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for finding in findings:
        seen.setdefault(finding, None)
    return list(seen)
