"""HL7 ingest throughput: messages per second verified (SHA512withRSA), parsed and turned into the queued change in
process (one core), and end to end (HTTP into the dev host, verified, parsed, queued in the organisation's
geography in Azurite, acknowledged), sequentially and 8 at a time; then the changes applied from the queue.

Run: make bench   (or .venv/bin/python bench/hl7_ingest.py [--messages 2000])
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Harness  # noqa: E402
from dev.fakes.hl7_sender import Hl7Sender  # noqa: E402
from shared.hl7.framing import unframe  # noqa: E402
from shared.hl7.signature import load_certificate, verify_signature  # noqa: E402
from shared.hl7.siu import parse_siu  # noqa: E402
from shared.scheduling.appointments import change_from  # noqa: E402
from shared.scheduling.sealing import PhoneSeal  # noqa: E402
from shared.secrets.env import EnvSecretStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    sender = Hl7Sender()
    now = datetime.now(UTC)
    start = now + timedelta(days=1)
    messages = [
        sender.message(
            event="S12", csn=str(700000 + i), appointment_id=f"A{i}", start=start, minutes=30, phone="+12175550123"
        )
        for i in range(args.messages)
    ]
    signed = [(body, sender.sign(body)) for body in messages]
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

    with Harness() as harness:
        endpoint = harness.approved_endpoint()
        harness.upload_certificate(sender.certificate_pem)
        url = f"{harness.public}/api/hl7/{endpoint}"
        sample = signed[: min(500, len(signed))]
        for label, workers in (("end to end, 1 at a time:", 1), ("end to end, 8 at a time:", 8)):
            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                statuses = list(pool.map(lambda item: harness.post_hl7(url, *item), sample))
            elapsed = time.perf_counter() - began
            assert statuses == [200] * len(sample), set(statuses)
            print(f"  {label:<38}{len(sample) / elapsed:8.0f} messages/s  ({len(sample)} messages into Azurite)")
        began, applied = time.perf_counter(), 0
        while batch := harness.pump():
            applied += batch
        elapsed = time.perf_counter() - began
        print(f"  applied from the queue (one dev host): {applied / elapsed:7.0f} messages/s  ({applied} messages)")


if __name__ == "__main__":
    main()
