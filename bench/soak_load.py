"""The soak's load (bench/soak.py): appointments of two organisations, each with the chain of SIU messages its EHR
sends, then the chains dealt to concurrent senders with duplicates and reorderings injected, as interface engines
resend and reorder. Everything identifying is unique per appointment (phone number, name, birth date, MRN,
address, clinician's EHR user ID), so that the checks can find each one wherever it was kept or logged."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dev.fakes.hl7_sender import STATUS, Hl7Sender, Patient

ACTIVE = {"Booked"}
# How an appointment's story goes, with the share of appointments that follow it.
STORIES: dict[str, float] = {
    "moved": 0.30,  # booked, changed, moved, changed, moved again
    "rebooked": 0.15,  # booked, cancelled, booked again at another time, changed
    "cancelled": 0.15,  # booked, moved, cancelled, deleted
    "noshow": 0.10,  # booked, changed twice, no-show
    "reminder": 0.15,  # booked in two days; once the faults are over, moved into the reminder window (`move`)
    "past": 0.10,  # booked and moved in the past: no text at all
    "rejected": 0.05,  # booked, changed, then a cancellation the connector rejects (MSH-7 in the future)
}
MESSAGES_PER_APPOINTMENT = 4.15  # the stories' average, unique messages
DUPLICATES = 0.20  # share of messages sent twice (same control ID)
REORDERED = 0.10  # share of messages delivered after the next one of their appointment


@dataclass(frozen=True)
class Message:
    control: str
    appointment_id: str
    event: str
    sent: datetime  # MSH-7
    start: datetime
    minutes: int
    rejected: bool = False  # the connector must answer AR

    @property
    def status(self) -> str:
        return STATUS[self.event]


@dataclass
class Appointment:
    index: int
    organisation: int  # 0: the EU organisation, 1: the US one
    appointment_id: str
    csn: str
    phone: str
    patient: Patient
    provider: str
    story: str
    opted_out: bool = False
    visit: bool = False  # a video visit whose call events are written back
    messages: list[Message] = field(default_factory=list)

    @property
    def accepted(self) -> list[Message]:
        return [m for m in self.messages if not m.rejected]

    @property
    def last(self) -> Message:
        """The message that decides the stored state: the newest accepted one by MSH-7, then control ID."""
        return max(self.accepted, key=lambda m: (m.sent, m.control))


@dataclass(frozen=True)
class Send:
    """One delivery attempt of a message: its bytes and signature, in a sender's order."""

    control: str
    path: str  # the organisation's HL7 endpoint
    body: bytes
    signature: str
    duplicate: bool = False


def plan(count: int, now: datetime, seed: int = 36) -> list[Appointment]:
    """`count` appointments, alternately of the two organisations (the reminder stories' last messages come from
    `move`)."""
    rng = random.Random(seed)
    now = now.replace(microsecond=0)  # HL7 times are to the second
    stories = list(STORIES)
    weights = [STORIES[s] for s in stories]
    appointments = []
    for index in range(count):
        story = rng.choices(stories, weights)[0]
        appointment = Appointment(
            index=index,
            organisation=index % 2,
            appointment_id=f"SOAK{index:05d}",
            csn=str(5_000_000 + index),
            phone=f"+1217555{index:04d}",
            patient=Patient(
                family=f"Quillfeather{index:05d}",
                given=f"Marisol{index:05d}",
                birth_date=f"19{40 + index % 60:02d}{1 + index % 12:02d}{1 + index % 28:02d}",
                mrn=f"MRN{index:07d}X",
                address=f"{100 + index} Larkspur Way^^Springfield^IL^62{index % 1000:03d}",
            ),
            provider=f"SOAKDR{index:05d}",
            story=story,
            opted_out=story in ("moved", "rebooked") and rng.random() < 0.05,
            visit=story in ("moved", "noshow") and rng.random() < 0.3,
        )
        appointment.messages = _story(appointment, now)
        appointments.append(appointment)
    return appointments


def _story(a: Appointment, now: datetime) -> list[Message]:
    """The appointment's messages, MSH-7 ten minutes apart in the last hours (each appointment its own second)."""
    base = now - timedelta(hours=3) + timedelta(seconds=a.index % 600)
    future = now + timedelta(days=2, minutes=a.index)
    steps: list[tuple[str, datetime]]
    if a.story == "moved":
        steps = [("S12", future), ("S14", future), ("S13", future + timedelta(hours=1))]
        steps += [("S14", future + timedelta(hours=1)), ("S13", future + timedelta(hours=2))]
    elif a.story == "rebooked":
        steps = [
            ("S12", future),
            ("S15", future),
            ("S12", future + timedelta(days=1)),
            ("S14", future + timedelta(days=1)),
        ]
    elif a.story == "cancelled":
        steps = [("S12", future), ("S13", future + timedelta(minutes=30))]
        steps += [("S15", future + timedelta(minutes=30)), ("S17", future + timedelta(minutes=30))]
    elif a.story == "noshow":
        steps = [("S12", future), ("S14", future), ("S14", future), ("S26", future)]
    elif a.story == "reminder":
        steps = [("S12", future), ("S14", future)]
    elif a.story == "past":
        yesterday = now - timedelta(days=1, minutes=a.index)
        steps = [("S12", yesterday), ("S14", yesterday), ("S13", yesterday + timedelta(hours=1))]
    else:  # rejected: the cancellation is dated ahead of the connector's clock, so it is refused
        steps = [("S12", future), ("S14", future), ("S15", future)]
    messages = [
        Message(
            control=f"SOAK{a.index:05d}M{k}",
            appointment_id=a.appointment_id,
            event=event,
            sent=base + timedelta(minutes=10 * k),
            start=start,
            minutes=30,
        )
        for k, (event, start) in enumerate(steps)
    ]
    if a.story == "rejected":
        last = messages[-1]
        messages[-1] = Message(**{**last.__dict__, "sent": now + timedelta(hours=2), "rejected": True})
    return messages


def move(appointments: list[Appointment], due: tuple[datetime, datetime], seed: int = 36) -> list[Appointment]:
    """The reminder stories moved (S13, then S14) so that their reminder, an hour before, falls due between
    `due`'s two moments: their new messages added, dated now; the appointments moved."""
    rng = random.Random(seed)
    moved = [a for a in appointments if a.story == "reminder"]
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    for a in moved:
        soon = (due[0] + (due[1] - due[0]) * rng.random() + timedelta(hours=1)).replace(microsecond=0)
        for k, event in enumerate(("S13", "S14"), len(a.messages)):
            a.messages.append(
                Message(f"SOAK{a.index:05d}M{k}", a.appointment_id, event, sent + timedelta(seconds=k), soon, 30)
            )
    return moved


def deal(
    appointments: list[Appointment], senders: int, seed: int = 36, since: int = 0
) -> tuple[list[list[Message]], int, int]:
    """The messages dealt to `senders` senders (an appointment's messages all to one, in its EHR order, its
    appointments interleaved), with duplicates and reorderings injected; the streams, how many duplicates and how
    many reorderings. `since`: each appointment's messages from this one on (the moved ones)."""
    rng = random.Random(seed)
    chains: list[list[list[Message]]] = [[] for _ in range(senders)]
    for appointment in appointments:
        chains[appointment.index % senders].append(list(appointment.messages[since:]))
    streams: list[list[Message]] = []
    duplicates = reorderings = 0
    for queues in chains:
        stream: list[Message] = []
        later: list[tuple[int, Message]] = []  # duplicates, sent again a few messages after the first time
        while queues or later:
            due = [item for item in later if item[0] <= len(stream)]
            if due or not queues:
                item = due[0] if due else later[0]
                later.remove(item)
                stream.append(item[1])
                continue
            chain = rng.choice(queues)
            message = chain.pop(0)
            if chain and rng.random() < REORDERED * 1.25:
                chain.insert(1, message)  # the newer one goes first, this one right after it
                message = chain.pop(0)
                reorderings += 1
            stream.append(message)
            if rng.random() < DUPLICATES:
                later.append((len(stream) + rng.randint(0, 5), message))
                duplicates += 1
            if not chain:
                queues.remove(chain)
        streams.append(stream)
    return streams, duplicates, reorderings


def signed(
    stream: list[Message], appointments: dict[str, Appointment], sender: Hl7Sender, paths: list[str]
) -> list[Send]:
    """A stream as bytes and signatures, each to its organisation's endpoint path (`paths`, by organisation); a
    message sent twice is the same bytes twice."""
    cache: dict[str, Send] = {}
    sends = []
    for message in stream:
        if message.control in cache:
            first = cache[message.control]
            sends.append(Send(first.control, first.path, first.body, first.signature, True))
            continue
        appointment = appointments[message.appointment_id]
        body = sender.message(
            event=message.event,
            csn=appointment.csn,
            appointment_id=appointment.appointment_id,
            start=message.start,
            minutes=message.minutes,
            phone=appointment.phone,
            sent=message.sent,
            control=message.control,
            patient=appointment.patient,
            provider=appointment.provider,
        )
        path = paths[appointment.organisation]
        cache[message.control] = Send(message.control, path, body, sender.sign(body))
        sends.append(cache[message.control])
    return sends
