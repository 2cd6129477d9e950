"""The sandbox EHR's scheduling feed: SIU messages signed `SHA512withRSA` with a key generated at start, whose
certificate the admin uploads in the portal, posted to the connector's HL7 endpoint."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from dev.fakes.signing import self_signed

STATUS = {"S12": "Booked", "S13": "Booked", "S14": "Booked", "S15": "Cancelled", "S17": "Deleted", "S26": "Noshow"}


@dataclass(frozen=True)
class Patient:
    """PID's identifying fields: MRN (PID-3), name (PID-5), birth date (PID-7) and address (PID-11)."""

    family: str = "Patient"
    given: str = "Sandbox"
    birth_date: str = "19800101"
    mrn: str = ""
    address: str = ""


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
        sent: datetime | None = None,
        control: str = "",
        patient: Patient | None = None,
        provider: str = "E1001",
    ) -> bytes:
        """A signed-to-be SIU; `language`: PID-15 (the patient's primary language, e.g. `es`), none when empty;
        `sent` (MSH-7) and `control` (MSH-10) are now and a fresh ID unless given; `provider`: the clinician's EHR
        user ID (AIP-3)."""
        self._sequence += 1
        end = start + timedelta(minutes=minutes)
        area, local = phone[-10:-7], phone[-7:]
        control = control or f"SBX{self._sequence:06d}{int(datetime.now(UTC).timestamp())}"
        who = patient or Patient()
        segments = [
            f"MSH|^~\\&|SANDBOXEHR|CLINIC|VVCONNECTOR|ORG|{stamp(sent or datetime.now(UTC))}||SIU^{event}^SIU_S12|"
            f"{control}|P|2.5",
            f"SCH||{appointment_id}^SANDBOX||||||VIDEO^Video visit^L|{minutes}|min^minutes^ISO+|"
            f"^^{minutes}^{stamp(start)}^{stamp(end)}||||||||||||||{STATUS[event]}",
            f"PID|1||{who.mrn or 'P' + csn}^^^SANDBOX^MR||{who.family}^{who.given}||{who.birth_date}|F|||"
            f"{who.address}||^PRN^CP^^1^{area}^{local}||{language}",
            f"PV1|1|O|VIDEO^^^CLINIC||||||||||||||||{csn}",
            "RGS|1|A",
            f"AIP|1|A|{provider}^Analyst^Avery^^^Dr|ATT^Attending^L||{stamp(start)}|||{minutes}|min",
        ]
        return ("\r".join(segments) + "\r").encode()

    def send(self, url: str, body: bytes) -> httpx.Response:
        headers = {"Content-Type": "application/hl7-v2; charset=utf-8", "HL7-Signature": self.sign(body)}
        return httpx.post(url, content=body, headers=headers, timeout=30)
