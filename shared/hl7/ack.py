"""HL7 acknowledgements: MSA-1 AA (accepted), AE (error), AR (rejected); MSA-2 is the original MSH-10. Over
HTTP, AA is 200, AR 400 and AE 500."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from shared.hl7 import AckCode

HTTP_STATUS: dict[AckCode, int] = {"AA": 200, "AR": 400, "AE": 500}
_UNSAFE = re.compile(r"[|^~\\&\r\n]")


def _field(value: str) -> str:
    return _UNSAFE.sub(" ", value)[:200]


def build_ack(
    *, code: AckCode, original: str | None, now: datetime, text: str = "", sender: str = "", receiver: str = ""
) -> str:
    """An ACK for a message whose MSH-10 was `original` (unknown for unreadable messages), `\\r`-separated.

    `sender` and `receiver` are the original MSH-3/MSH-5: the ACK goes back the other way."""
    timestamp = now.strftime("%Y%m%d%H%M%S%z")
    control_id = uuid.uuid4().hex[:20]
    msh = f"MSH|^~\\&|{_field(receiver) or 'VVCONNECTOR'}||{_field(sender)}||{timestamp}||ACK|{control_id}|P|2.5"
    msa = f"MSA|{code}|{_field(original or '')}|{_field(text)}"
    return f"{msh}\r{msa}\r"
