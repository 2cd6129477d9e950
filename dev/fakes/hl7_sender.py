"""The sandbox EHR's scheduling feed: SIU messages signed `SHA512withRSA` with a key generated at start, whose
certificate the admin uploads in the portal, posted to the connector's HL7 endpoint."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from dev.fakes.signing import self_signed

STATUS = {"S12": "Booked", "S13": "Booked", "S14": "Booked", "S15": "Cancelled", "S17": "Deleted", "S26": "Noshow"}


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


class Hl7Sender:
    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.certificate = self_signed(self._key, "Sandbox EHR HL7 signing")
        self._sequence = 0

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def sign(self, body: bytes) -> str:
        signature = self._key.sign(body, padding.PKCS1v15(), hashes.SHA512())
        return "SHA512withRSA " + base64.b64encode(signature).decode()

    def message(
        self,
        *,
        event: str,
        csn: str,
        appointment_id: str,
        start: datetime,
        minutes: int,
        phone: str,
        language: str = "",
    ) -> bytes:
        """A signed-to-be SIU; `language`: PID-15 (the patient's primary language, e.g. `es`), none when empty."""
        self._sequence += 1
        end = start + timedelta(minutes=minutes)
        area, local = phone[-10:-7], phone[-7:]
        segments = [
            f"MSH|^~\\&|SANDBOXEHR|CLINIC|VVCONNECTOR|ORG|{stamp(datetime.now(UTC))}||SIU^{event}^SIU_S12|"
            f"SBX{self._sequence:06d}{int(datetime.now(UTC).timestamp())}|P|2.5",
            f"SCH||{appointment_id}^SANDBOX||||||VIDEO^Video visit^L|{minutes}|min^minutes^ISO+|"
            f"^^{minutes}^{stamp(start)}^{stamp(end)}||||||||||||||{STATUS[event]}",
            f"PID|1||P{csn}^^^SANDBOX^MR||Patient^Sandbox||19800101|F|||||^PRN^CP^^1^{area}^{local}||{language}",
            f"PV1|1|O|VIDEO^^^CLINIC||||||||||||||||{csn}",
            "RGS|1|A",
            f"AIP|1|A|E1001^Analyst^Avery^^^Dr|ATT^Attending^L||{stamp(start)}|||{minutes}|min",
        ]
        return ("\r".join(segments) + "\r").encode()

    def send(self, url: str, body: bytes) -> httpx.Response:
        headers = {"Content-Type": "application/hl7-v2; charset=utf-8", "HL7-Signature": self.sign(body)}
        return httpx.post(url, content=body, headers=headers, timeout=30)
