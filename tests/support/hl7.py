"""SIU samples (tests/fixtures/hl7) made live: a current MSH-7 and the appointment moved to a chosen time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

SAMPLES = Path(__file__).parents[1] / "fixtures" / "hl7"


def siu(
    name: str,
    start: datetime,
    sent: datetime | None = None,
    control: str | None = None,
    *,
    minutes: int = 30,
    provider: str | None = None,
    language: str | None = None,
) -> bytes:
    """A sample with a live MSH-7 and its appointment moved to `start` (`minutes` long), with the clinician's EHR
    user ID (PV1-7, AIP-3) replaced by `provider` and the patient's language (PID-15) set to `language` when given."""
    body = (SAMPLES / f"{name}.hl7").read_bytes().decode()

    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")

    body = body.replace("20250314093000-0500", stamp(sent or datetime.now(UTC)))
    body = re.sub(r"2025031\d{7}(-0500)?", lambda _: "START", body)
    body = body.replace("START", stamp(start), 1).replace("START", stamp(start + timedelta(minutes=minutes)), 1)
    body = body.replace("START", stamp(start))
    if provider:
        body = body.replace("|1234^Clinician^", f"|{provider}^Clinician^")
    if language:
        body = re.sub(r"(\rPID\|[^\r]*)", lambda m: f"{m.group(1)}||{language}", body, count=1)
    if control:
        body = re.sub(r"\|MSG\d{4}\|", f"|{control}|", body, count=1)
    return body.encode()
