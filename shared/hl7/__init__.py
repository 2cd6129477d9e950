"""HL7 v2 scheduling messages (SIU): framing, parsing to a typed AppointmentEvent, signatures and ACKs."""

from __future__ import annotations

from typing import Literal

from shared.core.errors import InvalidInput

AckCode = Literal["AA", "AE", "AR"]


class Hl7Rejected(InvalidInput):
    """The message cannot be accepted (answered with an AR ACK); `detail` says why, without message content."""
