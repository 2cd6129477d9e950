"""`make demo`'s reply: the patient answers the booking's reminder with "C" from their phone (the sandbox's
`/_sandbox/sms/reply`, delivered to the connector as Event Grid delivers inbound texts), and the connector's
confirmation lands in the outbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

PATIENT_PHONE = "+12175550123"  # the sandbox EHR's patients' number


def reply_to_reminder(ehr: str, clinic_number: str, outbox: Callable[[], list[dict[str, Any]]]) -> None:
    earlier = {m["id"] for m in outbox()}  # an earlier make demo's answers are not this one's
    sent = httpx.post(
        f"{ehr}/_sandbox/sms/reply", json={"from": PATIENT_PHONE, "to": clinic_number, "message": "C"}, timeout=30
    ).json()
    for _ in range(30):  # the dev host pumps the sms-outbound queue every couple of seconds
        confirmed = [m for m in outbox() if "confirmed" in m["body"] and m["id"] not in earlier]
        if confirmed:
            print(f"   the patient replied C (HTTP {sent['status']}); the answer: {confirmed[0]['body']}")
            return
        time.sleep(0.5)
    print(f"   the patient replied C (HTTP {sent['status']}); no answer yet: see the outbox in the portal")
