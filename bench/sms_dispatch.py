"""Texts at hospital scale: 2,000 texts through the ACS stub, from two sender numbers, by two dev-host workers
(separate processes) pumping the same `sms-outbound` and `sms-waiting` queues; one worker is killed (SIGKILL)
part-way and started again. The stub holds each number to `--limit` texts in any 60 seconds (429 with
Retry-After beyond it), answers 2% of requests 500 at random, and sends a repeated repeatability ID once.

Prints: texts requested, sent, failed, duplicates (texts the stub sent twice for one record), lost (records not
settled), the achieved rate per number as a percentage of the limit (over the busiest minute, and from the first
to the last text, per minute and per 10 seconds), 429s and 500s.

The default limit is the toll-free default, 200 texts a minute: two workers on a 2-core machine (with Azurite, the
stub and this script) handle about 20 queue messages a second, and each text is two (queued, then sent at its
slot), so a limit above about 300 a minute measures the machine rather than the limiter.

Run: make bench   (or .venv/bin/python bench/sms_dispatch.py [--texts 2000 --limit 200])
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORKER_LEASE = 15  # seconds a worker's received message stays invisible: a killed worker's messages come back then


def worker() -> None:
    """One dev host pumping the queue triggers (no HTTP, no timers), sending through the ACS stub."""
    import asyncio

    from azure.core.credentials import AzureKeyCredential

    import function_app
    from dev.host.host import DevHost, HostConfig, HostKeys
    from dev.host.queues import QueueOptions
    from shared.messaging.providers.acs import AcsSmsSender
    from shared.runtime import get_runtime

    get_runtime().use(
        sms_sender=AcsSmsSender.connect(os.environ["ACS_ENDPOINT"], AzureKeyCredential(os.environ["BENCH_ACS_KEY"]))
    )
    options = QueueOptions(
        batch_size=16, max_polling_interval=0.5, visibility_timeout=0, message_lease=WORKER_LEASE, parallel=True
    )
    host = DevHost(function_app.app, keys=HostKeys(("k",), "m"), environ=os.environ, config=HostConfig(queues=options))
    asyncio.run(host.queues.run_forever(asyncio.Event()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=200, help="texts per minute per number, at the stub")
    parser.add_argument("--kill-at", type=float, default=0.3, help="share of texts sent when a worker is killed")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return

    from dev.host.serving import ServerThread
    from tests.support.acs_stub import AcsStub

    stub = AcsStub(key=base64.b64encode(secrets.token_bytes(32)).decode(), per_number_limit=args.limit)
    stub.error_rate = 0.02
    server = ServerThread(stub.application()).start()
    stub.url = server.url
    environment = {
        "SMS_PROVIDER": "acs",
        "ACS_ENDPOINT": stub.url,
        "SMS_RATE_PER_MINUTE": str(args.limit),
        "BENCH_ACS_KEY": stub.key,
    }
    from bench.harness import Harness
    from shared.core.settings import Geography
    from shared.messaging.models import SmsOutbound
    from shared.messaging.providers.numbers import LocalPhoneNumbers
    from shared.messaging.tables import SmsMessageRepository
    from shared.setup.tables import FhirEndpointRepository
    from shared.visits.models import Appointment
    from shared.visits.tables import AppointmentRepository

    with Harness(environment) as harness:
        runtime = harness.runtime
        runtime.use(phone_numbers=LocalPhoneNumbers())
        first = harness.approved_endpoint()
        endpoints = runtime.platform.tables.control(FhirEndpointRepository)
        second = secrets.token_hex(8)
        endpoints.upsert(endpoints.get(harness.tenant, first).model_copy(update={"id": second}))
        numbers = [harness.sms_number(), harness.sms_number()]
        while numbers[1] == numbers[0]:  # local numbers come from 100 fictional ones: two may be the same
            numbers[1] = harness.sms_number()
        for endpoint, number in zip((first, second), numbers, strict=True):
            settings = {"clinic_name": "Bench", "sender_number": number, "reminder_enabled": False}
            harness.portal("PUT", f"endpoints/{endpoint}/sms-settings", json=settings)

        appointments = runtime.platform.tables.in_geography(Geography.EU, AppointmentRepository)
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        texts: list[SmsOutbound] = []
        for endpoint in (first, second):
            rows = [
                Appointment(
                    endpoint_id=endpoint,
                    appointment_key=f"bench{endpoint}{n:05d}",
                    start=start,
                    end=start + timedelta(minutes=30),
                    version="v1",
                    phone=f"+1217555{n % 10000:04d}",
                )
                for n in range(args.texts // 2)
            ]
            for offset in range(0, len(rows), 100):
                appointments.transaction([("upsert", row) for row in rows[offset : offset + 100]])
            texts += [
                SmsOutbound(
                    tenant_id=harness.tenant,
                    endpoint_id=endpoint,
                    appointment_key=row.appointment_key,
                    kind="scheduled",
                    version="v1",
                )
                for row in rows
            ]
        runtime.messaging.dispatch.enqueue_many(Geography.EU, texts)
        print(f"SMS dispatch: {len(texts)} texts queued for 2 numbers, limit {args.limit}/min per number at the stub")

        def start_worker() -> subprocess.Popen[bytes]:
            return subprocess.Popen([sys.executable, __file__, "--worker"], env=os.environ.copy(), cwd=ROOT)

        workers = [start_worker(), start_worker()]
        began, killed = time.monotonic(), False
        progress, progressed_at = 0, began
        records = runtime.platform.tables.in_geography(Geography.EU, SmsMessageRepository)
        statuses: Counter[str] = Counter()
        try:
            while time.monotonic() - began < 600:
                time.sleep(1)
                if not killed and len(stub.sent) >= args.kill_at * len(texts):
                    workers[0].send_signal(signal.SIGKILL)
                    workers[0].wait()
                    print(f"  worker killed (SIGKILL) after {len(stub.sent)} texts, and started again")
                    workers[0] = start_worker()
                    killed = True
                if len(stub.sent) > progress:
                    progress, progressed_at = len(stub.sent), time.monotonic()
                # The records are read only at the end (or when sending stalls: failed texts): reading 2,000
                # entities every second would load Azurite, which the workers share, and slow them.
                if len(stub.sent) >= len(texts) or time.monotonic() - progressed_at > 30:
                    statuses = Counter(r.status for e in (first, second) for r in records.iterate(e))
                    if statuses["sent"] + statuses["failed"] + statuses["skipped"] >= len(texts):
                        break
        finally:
            for process in workers:
                process.kill()
                process.wait()
        elapsed = time.monotonic() - began
        statuses = Counter(r.status for e in (first, second) for r in records.iterate(e))
        per_record = Counter(t["smsSendOptions"]["tag"] for t in stub.sent)
        settled = statuses["sent"] + statuses["failed"] + statuses["skipped"] + statuses["delivered"]
        print(f"  texts requested:    {len(texts)}")
        print(f"  sent:               {statuses['sent']}  (stub sent {len(stub.sent)}, in {elapsed:.0f} s)")
        print(f"  failed:             {statuses['failed']}")
        print(f"  duplicates:         {sum(n - 1 for n in per_record.values() if n > 1)}")
        from shared.messaging.segments import segments

        billed = sum(segments(t["message"]).count for t in stub.sent)
        print(
            f"  SMS segments:       {billed} ({billed / max(1, len(stub.sent)):.2f} per text sent; each text's storage"
            " transactions: bench/reminders.py, whose sender runs in process)"
        )
        print(f"  lost:               {len(texts) - settled}  (statuses {dict(statuses)})")
        for number in numbers:
            times = sorted(t["at"] for t in stub.sent if t["from"] == number)
            span = (times[-1] - times[0]) if len(times) > 1 else 0.0
            overall = (len(times) - 1) / span * 60 / args.limit * 100 if span else 0.0
            busiest = stub.busiest_minute(number) / args.limit * 100
            minutes = Counter(int((t - times[0]) // 60) for t in times)
            print(
                f"  number ...{number[-4:]}:       {len(times)} texts, busiest minute {busiest:.0f}% of the limit, "
                f"first to last text {overall:.0f}% ({span:.0f} s); texts per minute "
                f"{[minutes[m] for m in range(max(minutes) + 1)] if minutes else []}"
            )
            tens = Counter(int((t - times[0]) // 10) for t in times)
            print(f"    texts per 10 s:   {[tens[m] for m in range(max(tens) + 1)]}")
        print(f"  429s received:      {stub.throttled}")
        print(f"  500s received:      {stub.errors}  (repeated requests answered from the first: {stub.repeated})")
        server.stop()


if __name__ == "__main__":
    main()
