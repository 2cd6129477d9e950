"""The soak's checks (bench/soak.py), from storage and the stubs' logs, never the app's own word:

- every appointment's stored state is its last accepted message's by the EHR's order (MSH-7, then control ID);
  every message ACKed AA is reflected, none ACKed AR is;
- the texts the SMS stub sent: each once; the patient's last text tells the final time (or the cancellation);
  the reminder of each appointment moved into the window once; none for past or cancelled visits, none to
  numbers that texted STOP;
- every call event queued written back to the EHR once;
- privacy (bench/soak_privacy.py): every table and queue of every account, before and after a retention run past
  the last appointment, and every log line and span of the instances.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.soak_load import ACTIVE, Appointment, Message
from shared.core.settings import Geography
from shared.messaging.tables import SmsMessageRepository
from shared.visits.models import appointment_key
from shared.visits.tables import AppointmentRepository

if TYPE_CHECKING:
    from bench.harness import Harness
    from bench.soak_visits import Visit
    from dev.fakes.sandbox_ehr import SandboxEhr
    from tests.support.acs_stub import AcsStub

CONFIRMATIONS = ("scheduled", "rescheduled")


@dataclass(frozen=True)
class Organisation:
    tenant: str
    endpoint: str
    geography: str
    number: str  # its sender number

    def key(self, appointment: Appointment) -> str:
        return appointment_key(self.tenant, self.endpoint, f"csn:{appointment.csn}")


@dataclass
class Tally:
    expected: int = 0
    done: int = 0
    missing: int = 0
    duplicated: int = 0
    examples: list[str] = field(default_factory=list)

    def miss(self, example: str) -> None:
        self.missing += 1
        if len(self.examples) < 5:
            self.examples.append(example)


@dataclass
class Report:
    sent: int = 0
    duplicates: int = 0
    reorderings: int = 0
    faults: list[str] = field(default_factory=list)
    acks: Counter[str] = field(default_factory=Counter)
    state: Tally = field(default_factory=Tally)  # appointments whose stored state is the last accepted message's
    reflected: Tally = field(default_factory=Tally)  # messages ACKed AA (missing: not reflected) and AR (dup: kept)
    texts: Tally = field(default_factory=Tally)
    unwanted_texts: list[str] = field(default_factory=list)
    writebacks: Tally = field(default_factory=Tally)
    privacy: list[str] = field(default_factory=list)
    scanned: dict[str, int] = field(default_factory=dict)
    load_seconds: float = 0.0
    settle_seconds: float = 0.0
    wall_seconds: float = 0.0
    logs: Path = Path()  # the instances' logs and spans

    @property
    def clean(self) -> bool:
        tallies = (self.state, self.reflected, self.texts, self.writebacks)
        return not self.privacy and not self.unwanted_texts and all(not t.missing and not t.duplicated for t in tallies)

    def text(self) -> str:
        def tally(name: str, t: Tally, done: str = "done") -> list[str]:
            lines = [
                f"  {name:<34}expected {t.expected}, {done} {t.done}, missing {t.missing}, duplicated {t.duplicated}"
            ]
            return lines + [f"      e.g. {e}" for e in t.examples]

        lines = [
            "Soak: two organisations (EU, US), two instances, duplicates, disorder and faults at once",
            f"  messages sent:                   {self.sent}",
            f"    of which sent twice (same control ID): {self.duplicates}; after a newer one: {self.reorderings}",
            f"  acknowledgements:                {dict(sorted(self.acks.items()))}",
            "  faults injected:",
            *[f"    {f}" for f in self.faults],
            *tally("appointments' stored state:", self.state, "right"),
            *tally("messages ACKed AA, reflected:", self.reflected, "reflected"),
            "    (duplicated here: a message that should have been refused, AR, was accepted)",
            *tally("texts:", self.texts, "sent"),
            f"  texts that should not have gone:  {len(self.unwanted_texts)}",
            *[f"      e.g. {e}" for e in self.unwanted_texts[:5]],
            *tally("writebacks:", self.writebacks),
            f"  privacy findings:                {len(self.privacy)}  (scanned {self.scanned})",
            *[f"      {p}" for p in self.privacy[:20]],
            f"  load {self.load_seconds:.0f} s, settling {self.settle_seconds:.0f} s,"
            f" wall time {self.wall_seconds:.0f} s",
        ]
        return "\n".join(lines)


def check(
    *,
    harness: Harness,
    ehrs: list[SandboxEhr],
    stub: AcsStub,
    organisations: list[Organisation],
    appointments: list[Appointment],
    visits: list[Visit],
    acks: dict[str, list[str]],
    logs: Path,
    now: datetime,
) -> Report:
    from bench.soak_privacy import scan

    report = Report()
    report.acks = Counter(code for codes in acks.values() for code in codes)
    stored = _stored(harness, organisations, appointments)
    _check_state(report, appointments, stored, acks)
    _check_texts(report, harness, stub, organisations, appointments, acks, now)
    _check_writebacks(report, ehrs, visits)
    report.privacy, report.scanned = scan(harness, ehrs, stub, organisations, appointments, logs, now)
    return report


def _stored(harness: Harness, organisations: list[Organisation], appointments: list[Appointment]) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for organisation in organisations:
        table = harness.runtime.platform.tables.in_geography(Geography(organisation.geography), AppointmentRepository)
        rows |= {row.appointment_key: row for row in table.iterate(organisation.endpoint)}
    return {a.appointment_id: rows.get(organisations[a.organisation].key(a)) for a in appointments}


def _accepted(appointment: Appointment, acks: dict[str, list[str]]) -> list[Message]:
    return [m for m in appointment.messages if "AA" in acks.get(m.control, [])]


def _last(messages: list[Message]) -> Message:
    return max(messages, key=lambda m: (m.sent, m.control))


def _check_state(
    report: Report, appointments: list[Appointment], stored: dict[str, Any], acks: dict[str, list[str]]
) -> None:
    for appointment in appointments:
        row = stored[appointment.appointment_id]
        for message in appointment.messages:
            codes = acks.get(message.control, [])
            if message.rejected:
                report.reflected.duplicated += "AA" in codes  # a message the connector should have refused
                continue
            report.reflected.expected += 1
            if "AA" not in codes:
                report.reflected.miss(f"{message.control} never acknowledged AA: {codes}")
            elif row is not None and row.version.rsplit("|", 1)[0] >= f"{message.sent:%Y%m%d%H%M%S%f}":
                report.reflected.done += 1
            else:
                report.reflected.miss(f"{message.control} ({message.event}) ACKed AA is not reflected")
        accepted = _accepted(appointment, acks)
        if not accepted:
            continue
        report.state.expected += 1
        last = _last(accepted)
        wanted = (last.control, last.start, last.status.lower())
        found = (row.version.rsplit("|", 1)[-1], row.start, str(row.status)) if row is not None else None
        if found == wanted:
            report.state.done += 1
        else:
            report.state.miss(f"{appointment.appointment_id}: stored {found}, last message says {wanted}")


def _check_texts(
    report: Report,
    harness: Harness,
    stub: AcsStub,
    organisations: list[Organisation],
    appointments: list[Appointment],
    acks: dict[str, list[str]],
    now: datetime,
) -> None:
    records: dict[str, Any] = {}
    for organisation in organisations:
        table = harness.runtime.platform.tables.in_geography(Geography(organisation.geography), SmsMessageRepository)
        records |= {row.id: row for row in table.iterate(organisation.endpoint)}
    per_record = Counter(str(text["smsSendOptions"]["tag"]) for text in stub.sent)
    report.texts.duplicated += sum(n - 1 for n in per_record.values() if n > 1)
    for tag, n in per_record.items():
        if n > 1 and len(report.texts.examples) < 5:
            report.texts.examples.append(f"one text record sent {n} times: {tag.rsplit('|', 1)[-1]}")
    received: dict[str, list[tuple[str, str]]] = defaultdict(list)  # phone: (kind, body), in the order sent
    for text in sorted(stub.sent, key=lambda t: float(t["at"])):
        record = records.get(str(text["smsSendOptions"]["tag"]).rsplit("|", 1)[-1])
        kind = record.type if record else "unknown"
        received[str(text["to"])].append((kind, str(text["message"])))
    for appointment in appointments:
        texts = received.get(appointment.phone, [])
        where = f"{appointment.appointment_id} ({appointment.story})"
        kinds = Counter(kind for kind, _ in texts)
        same = Counter(texts)
        report.texts.duplicated += sum(n - 1 for n in same.values() if n > 1)
        for (kind, body), n in same.items():
            if n > 1 and len(report.texts.examples) < 5:
                report.texts.examples.append(f"{where}: the same {kind} text {n} times: {body[:60]}; all: {texts}")
        if texts and (appointment.opted_out or appointment.story == "past"):
            why = "opted out" if appointment.opted_out else "past"
            report.unwanted_texts.append(f"{where}: {len(texts)} texts though {why}")
            continue
        accepted = _accepted(appointment, acks)
        if not accepted or appointment.opted_out or appointment.story == "past":
            continue
        last = _last(accepted)
        confirmations = [body for kind, body in texts if kind in CONFIRMATIONS]
        if last.status in ACTIVE and last.start > now:
            report.texts.expected += 1
            if confirmations and told(last.start) in confirmations[-1]:
                report.texts.done += 1
            else:
                got = [f"{kind}: {body[:70]}" for kind, body in texts]
                report.texts.miss(f"{where}: the last confirmation does not tell {told(last.start)}; got {got}")
        elif last.status in ("Cancelled", "Deleted") and confirmations:
            report.texts.expected += 1
            if texts[-1][0] == "cancelled":
                report.texts.done += 1
            else:
                report.texts.miss(f"{where}: told of the booking, last text {texts[-1][0]}, visit {last.status}")
        reminders = kinds["reminder"]
        if appointment.story == "reminder" and last.status in ACTIVE:
            report.texts.expected += 1
            report.texts.done += reminders >= 1
            report.texts.duplicated += max(0, reminders - 1)
            if not reminders:
                report.texts.miss(f"{where}: no reminder")
        elif reminders:
            report.unwanted_texts.append(f"{where}: {reminders} reminders, visit {last.status} at {last.start}")


def told(start: datetime) -> str:
    """The visit's time as a text tells it (the soak's endpoints keep UTC and write English)."""
    return f"{start:%a, %b} {start.day} at {int(f'{start:%I}')}:{start:%M %p}"


def _check_writebacks(report: Report, ehrs: list[SandboxEhr], visits: list[Visit]) -> None:
    from shared.writeback.participant_events import participant_key

    wanted: dict[tuple[str, str, str], str] = {}
    for visit in visits:
        for csn, guest, status in visit.expected():
            wanted[(csn, participant_key(visit.organisation.tenant, guest), status)] = f"{csn} {guest} {status}"
    received = [w for ehr in ehrs for w in ehr.writebacks.of_kind("connection_status")]
    at: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for w in received:
        at[(str(w.body["ConferenceID"]), str(w.body["ExternalID"]), str(w.body["ConnectionStatus"]))].append(
            f"{w.at:%H:%M:%S.%f}"[:-3]
        )
    recorded = Counter({key: len(times) for key, times in at.items()})
    report.writebacks.expected = len(wanted)
    report.writebacks.duplicated = sum(n - 1 for n in recorded.values() if n > 1)
    twice = [f"{wanted.get(key, str(key))} at {at[key]}" for key, n in recorded.items() if n > 1]
    if twice:
        report.writebacks.examples.append(f"written back more than once: {twice[:3]}")
    for key, described in sorted(wanted.items()):
        if recorded[key]:
            report.writebacks.done += 1
        else:
            report.writebacks.miss(described)
    unexpected = set(recorded) - set(wanted)
    report.writebacks.duplicated += len(unexpected)
    if unexpected:
        report.writebacks.examples.append(f"{len(unexpected)} writebacks of no queued event, e.g. {min(unexpected)}")


def past_every_appointment(appointments: list[Appointment]) -> datetime:
    """A moment after every appointment's end (for the retention run)."""
    latest = max(m.start + timedelta(minutes=m.minutes) for a in appointments for m in a.messages)
    return max(latest, datetime.now(UTC)) + timedelta(minutes=1)
