"""HL7 ingest throughput: messages per second verified (SHA512withRSA), parsed and turned into the queued change in
process (one core), and end to end (HTTP into the dev host, verified, parsed, queued in the organisation's
geography in Azurite, acknowledged): one instance one message at a time and 8 at a time, then two instances (two
dev-host processes behind one port, as the Functions front end spreads requests over instances) 8 at a time;
then one round of changes applied from the queue.

The sender runs in a process of its own, so that its work does not compete with the app's for one interpreter.

Run: make bench   (or .venv/bin/python bench/hl7_ingest.py [--messages 2000])
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.counting import counting, report  # noqa: E402
from bench.harness import Harness  # noqa: E402
from dev.fakes.hl7_sender import Hl7Sender  # noqa: E402
from dev.host.queues import QueueOptions  # noqa: E402
from shared.hl7.framing import unframe  # noqa: E402
from shared.hl7.signature import load_certificate, verify_signature  # noqa: E402
from shared.hl7.siu import parse_siu  # noqa: E402
from shared.scheduling.appointments import change_from  # noqa: E402
from shared.scheduling.sealing import PhoneSeal  # noqa: E402
from shared.secrets.env import EnvSecretStore  # noqa: E402

Signed = list[tuple[bytes, str]]
PHONE = "+12175550123"


def send_all(url: str, signed: Signed, concurrency: int, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The EHR's interface engine: `concurrency` connections kept open, each posting messages one after another."""
    parts = urlsplit(url)
    local = threading.local()

    def post(item: tuple[bytes, str]) -> int:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
        headers = {"Content-Type": "application/hl7-v2", "HL7-Signature": item[1]}
        local.connection.request("POST", parts.path, body=item[0], headers=headers)
        answer = local.connection.getresponse()
        answer.read()
        return int(answer.status)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        statuses = list(pool.map(post, signed))
    results.put((time.perf_counter() - began, sorted(set(statuses))))


def end_to_end(url: str, signed: Signed, concurrency: int) -> float:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    sender = context.Process(target=send_all, args=(url, signed, concurrency, results))
    sender.start()
    elapsed, statuses = results.get()
    sender.join()
    assert statuses == [200], statuses
    return len(signed) / float(elapsed)


def instance(port: int) -> None:
    """A dev host serving HTTP only, on a port another instance shares."""
    import function_app
    from dev.host.host import DevHost, HostKeys
    from dev.host.serving import ServerThread

    host = DevHost(function_app.app, keys=HostKeys(("k",), "m"), environ=os.environ)
    ServerThread(host.web_application(), port=port, reuse_port=True).start()
    print("ready", flush=True)
    sys.stdin.read()  # until the bench closes it


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000, help="per measurement")
    parser.add_argument("--instance", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instance:
        instance(args.instance)
        return
    sender = Hl7Sender()
    now = datetime.now(UTC)
    start = now + timedelta(days=1)

    def booked(first: int) -> Signed:
        """`--messages` bookings of appointments no other round books."""
        numbers = range(first, first + args.messages)
        messages = [
            sender.message(event="S12", csn=str(i), appointment_id=f"A{i}", start=start, minutes=30, phone=PHONE)
            for i in numbers
        ]
        return [(body, sender.sign(body)) for body in messages]

    signed = booked(700000)
    der = load_certificate(sender.certificate_pem.encode(), now).der
    zone = ZoneInfo("America/Chicago")
    seal = PhoneSeal(EnvSecretStore({"SECRET_OPT_OUT_KEY": "bench"}))  # endpoints that text: the number is sealed

    began = time.perf_counter()
    for body, signature in signed:
        verify_signature(body, signature, der, now)
        event = parse_siu(unframe(body), zone)
        change_from(event, tenant_id="t", endpoint_id="e", received_at=now, seal=seal).model_dump_json()
    in_process = time.perf_counter() - began
    print(f"HL7 ingest, {args.messages} SIU^S12 messages")
    print(f"  in process (verify + parse), 1 core:  {args.messages / in_process:8.0f} messages/s")

    # The changes are applied by one dev host taking each batch of 16 in parallel, as the Functions host does.
    with Harness(queue_options=QueueOptions(parallel=True, max_polling_interval=0.5)) as harness:
        endpoint = harness.approved_endpoint()
        harness.upload_certificate(sender.certificate_pem)
        path = f"/api/hl7/{endpoint}"
        queued = 0
        for label, concurrency in (("one instance, 1 at a time:", 1), ("one instance, 8 at a time:", 8)):
            with counting() as work:
                rate = end_to_end(harness.public + path, booked(800000 + queued), concurrency)
            queued += len(signed)
            print(f"  end to end, {label:<27}{rate:8.0f} messages/s  ({len(signed)} messages into Azurite)")
            if concurrency == 1:
                report("SIU received", work, len(signed))

        from dev.host.azurite import free_port

        port = free_port()
        instances = [
            subprocess.Popen(
                [sys.executable, __file__, "--instance", str(port)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=os.environ.copy(),
                cwd=ROOT,
            )
            for _ in range(2)
        ]
        try:
            for process in instances:
                assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
            rate = end_to_end(f"http://127.0.0.1:{port}{path}", booked(800000 + queued), 8)
            queued += len(signed)
            label = "two instances, 8 at a time:"
            print(f"  end to end, {label:<27}{rate:8.0f} messages/s  ({len(signed)} messages into Azurite)")
        finally:
            for process in instances:
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout=30)

        began, applied = time.perf_counter(), 0
        with counting() as work:
            while applied < len(signed) and (batch := harness.pump()):  # Azurite slows as its tables grow
                applied += batch
        elapsed = time.perf_counter() - began
        print(f"  applied from the queue (one dev host): {applied / elapsed:7.0f} messages/s  ({applied} messages)")
        report("SIU applied", work, applied, elapsed / applied)


if __name__ == "__main__":
    main()
