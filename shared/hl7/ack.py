"""HL7 acknowledgements (original mode, HL7 v2.5 chapter 2), built from the original message's header with
python-hl7's `create_ack`: MSH-3/4 and MSH-5/6 swapped, MSH-9 `ACK^<trigger>^ACK`, a new MSH-10, MSH-11 and
MSH-12 (processing ID, version) the original's, MSA-1 the code (AA accepted, AE error, AR rejected), MSA-2 the
original MSH-10, MSA-3 the reason. A message whose header cannot be read gets an ACK of our own with MSA-2 empty.
Over HTTP, AA is 200, AR 400 and AE 500."""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.hl7 import AckCode

HTTP_STATUS: dict[AckCode, int] = {"AA": 200, "AR": 400, "AE": 500}
CONNECTOR_APPLICATION = "VVCONNECTOR"  # MSH-3 when the original named no receiving application
STANDARD_ENCODING = "|^~\\&"


def _clean(value: str, separators: str) -> str:
    """Text for one field: the message's separators and segment breaks become spaces."""
    return "".join(" " if c in separators or c in "\r\n" else c for c in value)[:200]


def _answer(message: str | None, code: AckCode, control_id: str, timestamp: str, text: str) -> str | None:
    """The ACK python-hl7 builds from the original's MSH (the first segment, parsed alone), or None when the
    message has no MSH complete enough to answer from (MSH-9 to MSH-12)."""
    if not message or not message.startswith("MSH"):
        return None
    import hl7

    try:
        header = hl7.parse(message.replace("\n", "\r").split("\r", 1)[0])
        source = header.segment("MSH")
        ack = header.create_ack(
            ack_code=code, message_id=control_id, application=None if str(source(5)) else CONNECTOR_APPLICATION
        )
        ack.segment("MSH").assign_field(timestamp, 7)  # python-hl7 would use its own clock, without the offset
        if text:
            ack.segment("MSA").assign_field(_clean(text, str(source(1)) + str(source(2))), 3)
    except (IndexError, KeyError, ValueError):
        return None
    rendered = str(ack)
    return rendered if rendered.endswith("\r") else rendered + "\r"


def build_ack(*, code: AckCode, message: str | None, now: datetime, text: str = "") -> str:
    """The ACK for `message` (the original's text, `\\r` between segments; None when it could not be read),
    `\\r`-separated and ending in `\\r`."""
    timestamp = now.strftime("%Y%m%d%H%M%S%z")
    control_id = uuid.uuid4().hex[:20]
    answer = _answer(message, code, control_id, timestamp, text)
    if answer is not None:
        return answer
    msh = f"MSH|^~\\&|{CONNECTOR_APPLICATION}|||||{timestamp}||ACK|{control_id}|P|2.5"
    return f"{msh}\rMSA|{code}||{_clean(text, STANDARD_ENCODING)}\r"
