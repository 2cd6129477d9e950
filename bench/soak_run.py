"""The soak's run (bench/soak.py): the stack set up, the load sent while the faults are injected, the queues left
to settle, then the checks (bench/soak_checks.py)."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from datetime import UTC, datetime, timedelta
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from bench.harness import Harness
from bench.soak import AZURITE_DOWN, EHR_DOWN, SENDERS, Faults, Instance, acs_key, scratch
from bench.soak_checks import Organisation, Report, check
from bench.soak_load import Appointment, Send, deal, move, plan, signed
from bench.soak_send import send_streams
from bench.soak_visits import Visit, queue_visit_events, visits
from bench.stubs import BACKEND_CLIENT
from dev.fakes.event_grid import sms_received
from dev.fakes.hl7_sender import Hl7Sender
from dev.fakes.sandbox_ehr import SandboxEhr
from dev.host.azurite import Azurite
from dev.host.serving import ServerThread
from tests.support.acs_stub import AcsStub

SMS_RATE = 1200  # texts a minute per number the connector keeps to; the stub throttles a little below it
REMINDER_BEFORE = 60  # minutes
REMINDERS_AFTER = 45  # seconds from the moves' sending to the first reminder falling due, plus a second per 20 moved


def run(count: int, *, seed: int = 36) -> Report:
    logs = scratch()
    began_at = datetime.now(UTC)
    azurite = Azurite(persistent=True).start()
    stub = AcsStub(key=acs_key(), per_number_limit=SMS_RATE - 100)
    stub.error_rate = 0.02
    stub_server = ServerThread(stub.application()).start()
    stub.url = stub_server.url
    environment = {
        "SMS_PROVIDER": "acs",
        "ACS_ENDPOINT": stub.url,
        "SMS_RATE_PER_MINUTE": str(SMS_RATE),
        "SOAK_ACS_KEY": stub.key,
    }
    harness = Harness(environment, azurite=azurite, reuse_port=True)
    instances: list[Instance] = []
    try:
        organisations, ehrs = _set_up(harness)
        appointments = plan(count, began_at, seed=seed)
        by_id = {a.appointment_id: a for a in appointments}
        _opt_out(harness, organisations, [a for a in appointments if a.opted_out])
        streams, duplicates, reorderings = deal(appointments, SENDERS, seed=seed)
        sender = Hl7Sender()
        for organisation in organisations:
            harness.as_tenant(organisation.tenant)
            harness.upload_certificate(sender.certificate_pem)
        paths = [f"/api/hl7/{o.endpoint}" for o in organisations]
        sends = [signed(stream, by_id, sender, paths) for stream in streams]
        port = int(harness.public.rsplit(":", 1)[1])
        instances = [Instance("A", port, True, logs), Instance("B", port, False, logs)]
        for instance in instances:
            instance.start()
        harness.stop_serving()  # from now on the two instances answer on the shared port
        faults = Faults()
        calls = visits(harness, organisations, [a for a in appointments if a.visit])
        # First some appointments are moved into the reminder window: their reminders fall due while the load runs.
        after = REMINDERS_AFTER + count // 20  # their messages applied before: a reminder due first is not sent
        soon = datetime.now(UTC) + timedelta(seconds=after)
        window = (soon, soon + timedelta(seconds=max(10, count // 50)))
        moved = move(appointments, window, seed=seed)
        again, duplicated, reordered = deal(moved, SENDERS, seed=seed, since=2)
        duplicates, reorderings = duplicates + duplicated, reorderings + reordered
        first = [signed(stream, by_id, sender, paths) for stream in again]
        process, _, results = _sending(harness.public, first)
        early: dict[str, list[str]] = results.get()
        process.join()
        faults.note(f"{len(moved)} appointments moved into the reminder window (due {after} s after)")
        acks, elapsed = _load(harness, ehrs, calls, sends, instances, azurite, faults)
        for control, codes in early.items():
            acks.setdefault(control, []).extend(codes)
        sends += first
        settled = _settle(azurite, stub, window[1], faults)
        for instance in instances:
            instance.stop()
        report = check(
            harness=harness,
            ehrs=ehrs,
            stub=stub,
            organisations=organisations,
            appointments=appointments,
            visits=calls,
            acks=acks,
            logs=logs,
            now=datetime.now(UTC),
        )
        report.sent = sum(len(s) for s in sends)
        report.duplicates, report.reorderings = duplicates, reorderings
        report.faults = faults.injected
        report.load_seconds, report.settle_seconds = elapsed, settled
        report.wall_seconds = (datetime.now(UTC) - began_at).total_seconds()
        report.logs = logs
        return report
    finally:
        for instance in instances:
            instance.stop()
        harness.close()
        stub_server.stop()
        azurite.stop()


def _set_up(harness: Harness) -> tuple[list[Organisation], list[SandboxEhr]]:
    """The EU and the US organisation, each with its own EHR: an approved endpoint each, texts on (reminders an
    hour before), a number, writeback to Epic's connection status."""
    from shared.messaging.providers.numbers import LocalPhoneNumbers

    harness.runtime.use(phone_numbers=LocalPhoneNumbers())
    ehrs = [harness.ehr, harness.another_ehr()]
    found = []
    for geography, ehr in zip(("EU", "US"), ehrs, strict=True):
        ehr.register_backend_client(BACKEND_CLIENT, f"{harness.public}/api/.well-known/jwks/")
        harness.as_tenant(str(uuid.uuid4()))
        endpoint = harness.approved_endpoint(geography, ehr.fhir_base)
        number = harness.sms_number()
        settings = {"clinic_name": "Soak Clinic", "sender_number": number, "reminder_minutes_before": REMINDER_BEFORE}
        harness.portal("PUT", f"endpoints/{endpoint}/sms-settings", json=settings)
        harness.portal("PUT", f"endpoints/{endpoint}/writeback", json={"adapter": "epic", "client_id": BACKEND_CLIENT})
        found.append(Organisation(harness.tenant, endpoint, geography, number))
    return found, ehrs


def _opt_out(harness: Harness, organisations: list[Organisation], patients: list[Appointment]) -> None:
    """Those patients texted STOP to their clinic's number before the soak."""
    events = [
        sms_received(
            message_id=str(uuid.uuid4()),
            sender=a.phone,
            to=organisations[a.organisation].number,
            message="STOP",
        )
        for a in patients
    ]
    for first in range(0, len(events), 50):
        answer = harness.http.post("/api/events/sms", params={"code": "k"}, json=events[first : first + 50])
        assert answer.status_code < 300, answer.text


def _load(
    harness: Harness,
    ehrs: list[SandboxEhr],
    calls: list[Visit],
    sends: list[list[Send]],
    instances: list[Instance],
    azurite: Azurite,
    faults: Faults,
) -> tuple[dict[str, list[str]], float]:
    """Send every stream at once and inject the faults as the load goes; each control ID's acknowledgement codes
    (one per send) and the seconds the load took."""
    total = sum(len(s) for s in sends)
    began = time.monotonic()
    process, progress, results = _sending(harness.public, sends)
    half = len(calls) // 2
    # The kill lands before the first call events are queued: a writeback whose EHR answer came in just before its
    # instance died, and whose event was not yet stored, is written back again on redelivery (Epic's connection
    # status has no idempotency key), which exactly-once cannot survive (shared/writeback/participant_events.py).
    steps: list[tuple[float, str]] = [
        (0.12, "kill"),
        (0.20, "visits"),
        (0.45, "azurite"),
        (0.60, "ehr"),
    ]
    while steps:
        share, what = steps[0]
        if progress.value < share * total:
            if not process.is_alive():
                break
            time.sleep(0.2)
            continue
        steps.pop(0)
        if what == "visits":
            queue_visit_events(harness, calls[:half])
            faults.note(f"call events of {half} visits queued")
        elif what == "kill":
            instances[1].kill()
            faults.note("instance B killed (SIGKILL)")
            instances[1].start()
            faults.note("instance B started again")
        elif what == "azurite":
            azurite.halt()
            faults.note(f"Azurite stopped for {AZURITE_DOWN:.0f} s")
            time.sleep(AZURITE_DOWN)
            azurite.resume()
            faults.note("Azurite started again (same data)")
        else:
            for ehr in ehrs:
                ehr.writebacks.outage(EHR_DOWN)
            faults.note(f"EHR writeback receiver down for {EHR_DOWN:.0f} s")
            queue_visit_events(harness, calls[half:])
            faults.note(f"call events of {len(calls) - half} visits queued")
    acks: dict[str, list[str]] = results.get()
    process.join()
    return acks, time.monotonic() - began


def _sending(
    url: str, sends: list[list[Send]]
) -> tuple[multiprocessing.process.BaseProcess, Synchronized[int], multiprocessing.Queue]:  # type: ignore[type-arg]
    """The senders started in a process of their own: the process, its progress (sends done) and where its
    acknowledgements will be put."""
    context = multiprocessing.get_context("spawn")
    progress: Synchronized[int] = context.Value("i", 0)
    results = context.Queue()
    process = context.Process(target=send_streams, args=(url, sends, progress, results))
    process.start()
    return process, progress, results


def _settle(azurite: Azurite, stub: AcsStub, reminders_due: datetime, faults: Faults, limit: float = 900) -> float:
    """Wait until every queue is empty (invisible messages count), the last reminder is past its tick and the stub
    has sent nothing new for a while; the seconds it took."""
    from azure.storage.queue import QueueServiceClient

    began = time.monotonic()
    clients = [QueueServiceClient.from_connection_string(azurite.connection_string(a)) for a in azurite.accounts]
    quiet_since, sent = time.monotonic(), len(stub.sent)
    # The tick at the start of each minute queues that minute's reminders: the last one due is queued by the tick
    # of its minute, or by the next one when that one failed (storage was down: the cursor stays, the next catches up).
    last_tick = reminders_due.replace(second=0, microsecond=0) + timedelta(minutes=1, seconds=10)
    while time.monotonic() - began < limit:
        waiting = 0
        for client in clients:
            for queue in client.list_queues():
                if not queue.name.endswith("-poison"):
                    properties: Any = client.get_queue_client(queue.name).get_queue_properties()
                    waiting += properties.approximate_message_count or 0
        if len(stub.sent) != sent:
            quiet_since, sent = time.monotonic(), len(stub.sent)
        reminders_past = datetime.now(UTC) > last_tick
        if not waiting and reminders_past and time.monotonic() - quiet_since > 5:
            return time.monotonic() - began
        time.sleep(1)
    faults.injected.append(f"the queues did not settle within {limit:.0f} s")
    return time.monotonic() - began
