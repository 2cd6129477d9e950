"""Reminder tick: with 100,000 appointments in the index (spread over the next week), each with up to three
reminders (a day, two hours and ten minutes before; `--reminders 1` for one, an hour before), of which 1,000
reminders are due since the last tick, how long one tick takes (it finds what is due and queues it) and how many
entities it reads; then how long the dev host's queue pump takes to send them (to the outbox).

Run: make bench   (or .venv/bin/python bench/reminders.py [--appointments 100000 --due 1000 --reminders 3])
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.counting import counting  # noqa: E402
from bench.counting import report as print_counts  # noqa: E402
from bench.harness import Harness  # noqa: E402
from shared.core.settings import Geography  # noqa: E402
from shared.messaging.tables import OutboxRepository, SmsMessageRepository  # noqa: E402
from shared.scheduling.appointments import minute_of  # noqa: E402
from shared.scheduling.models import DueReminders, ReminderCursor, ReminderDue  # noqa: E402
from shared.scheduling.reminder_plan import due_fields  # noqa: E402
from shared.scheduling.tables import ReminderCursorRepository, ReminderIndexRepository  # noqa: E402
from shared.storage.queue_names import REMINDERS_DUE  # noqa: E402
from shared.visits.models import REMINDER_KINDS, Appointment, ReminderKind  # noqa: E402
from shared.visits.tables import AppointmentRepository  # noqa: E402

MINUTES_BEFORE = {1: (60,), 2: (1440, 120), 3: (1440, 120, 10)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--reminders", type=int, choices=(1, 2, 3), default=3, help="reminders per appointment")
    args = parser.parse_args()
    offsets: dict[ReminderKind, int] = dict(zip(REMINDER_KINDS, MINUTES_BEFORE[args.reminders], strict=False))
    with Harness() as harness:
        endpoint = harness.approved_endpoint()
        sender = harness.sms_number()
        settings: dict[str, object] = {"clinic_name": "Bench", "sender_number": sender}
        settings |= {f"{kind}_minutes_before": minutes for kind, minutes in offsets.items()}
        harness.portal("PUT", f"endpoints/{endpoint}/sms-settings", json=settings)
        runtime = harness.runtime
        tables = runtime.platform.tables
        appointments = tables.in_geography(Geography.EU, AppointmentRepository)
        index = tables.in_geography(Geography.EU, ReminderIndexRepository)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        random.seed(7)
        began = time.perf_counter()
        # The 1,000 due, with their appointments; the other reminders in the index, 100 to a future minute, so
        # that they are written 100 to a request (the appointments behind them are never read by a tick).
        due_rows: list[Appointment] = []
        entries: dict[str, list[ReminderDue]] = defaultdict(list)
        later = random.sample(range(2, 7 * 24 * 60), (args.appointments - args.due + 99) // 100)
        for i in range(args.appointments):
            due = (
                now - timedelta(seconds=random.randint(1, 59))
                if i < args.due
                else now + timedelta(minutes=later[(i - args.due) // 100], seconds=random.randint(0, 59))
            )
            key = f"bench{i:07d}"
            # `due` is one of the appointment's reminders (the kinds take turns); its others are indexed where
            # they are still to come (a due reminder's earlier ones were sent).
            anchor = REMINDER_KINDS[i % len(offsets)]
            start = due + timedelta(minutes=offsets[anchor])
            dues = {kind: start - timedelta(minutes=m) for kind, m in offsets.items()}
            dues = {kind: at for kind, at in dues.items() if kind == anchor or at >= now + timedelta(minutes=1)}
            if i < args.due:
                due_rows.append(
                    Appointment(
                        endpoint_id=endpoint,
                        appointment_key=key,
                        start=start,
                        end=start + timedelta(minutes=30),
                        version="1",
                        phone="+12175550123",
                        **due_fields(dues),  # type: ignore[arg-type]
                    )
                )
            for kind, at in dues.items():
                entries[minute_of(at)].append(
                    ReminderDue(
                        minute=minute_of(at),
                        tenant_id=harness.tenant,
                        endpoint_id=endpoint,
                        appointment_key=key,
                        due_at=at,
                        kind=kind,
                    )
                )
        for offset in range(0, len(due_rows), 100):
            appointments.transaction([("create", row) for row in due_rows[offset : offset + 100]])
        for partition in entries.values():
            for offset in range(0, len(partition), 100):
                index.transaction([("create", entry) for entry in partition[offset : offset + 100]])
        stored = time.perf_counter() - began
        total = sum(len(partition) for partition in entries.values())
        print(
            f"stored {total} reminders of {args.appointments} appointments ({args.reminders} each where still to "
            f"come; {args.due} due, with their appointments) in {stored:.0f} s"
        )
        cursor = minute_of(now - timedelta(minutes=2))  # the last tick ran before the due minute
        tables.in_geography(Geography.EU, ReminderCursorRepository).upsert(
            ReminderCursor(geography="EU", last_minute=cursor)
        )
        began = time.perf_counter()
        with counting() as ticked:
            report = runtime.scheduling.reminders.tick(Geography.EU)
        elapsed = time.perf_counter() - began
        print(
            f"reminder tick: {elapsed:.2f} s, entities read {report.read + 1} (index {report.read} of "
            f"{total}, and the cursor), queued {report.queued} ({report.queued / elapsed:.0f} reminders/s)"
        )
        began = time.perf_counter()
        again = runtime.scheduling.reminders.tick(Geography.EU)
        print(
            f"next tick: {time.perf_counter() - began:.2f} s, index entities read {again.read}, queued {again.queued}"
        )
        print_counts("reminder (its tick's share)", ticked, report.queued)
        batches = runtime.platform.storage.for_geography(Geography.EU).queue(REMINDERS_DUE)
        began, fanned = time.perf_counter(), 0
        with counting() as fanning:
            for message in list(batches.receive_messages(messages_per_page=32, max_messages=32)):
                fanned += runtime.scheduling.reminders.fan_out(
                    Geography.EU, DueReminders.model_validate_json(message.content)
                )
                batches.delete_message(message)
        elapsed = time.perf_counter() - began
        print(f"fan-out (the reminders-due trigger's work, in one process): {fanned} texts queued in {elapsed:.1f} s")
        print_counts("reminder (its fan-out's share)", fanning, fanned)
        began, handled = time.perf_counter(), 0
        with counting() as sending:
            while True:
                batch = harness.pump()
                if not batch:
                    break
                handled += batch
        elapsed = time.perf_counter() - began
        outbox = len(list(tables.control(OutboxRepository).iterate(harness.tenant)))
        records = Counter(
            (r.status, r.reason) for r in tables.in_geography(Geography.EU, SmsMessageRepository).iterate(endpoint)
        )
        print(f"sent by one dev host's queue pump: {outbox} in {elapsed:.1f} s ({outbox / elapsed:.0f} texts/s)")
        print(f"  texts recorded: {dict(records)}")
        print_counts("text", sending, outbox, elapsed / outbox)


if __name__ == "__main__":
    main()
