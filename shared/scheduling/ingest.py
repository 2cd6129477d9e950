"""HL7 over HTTP: verify, parse, enqueue, acknowledge. Nothing is stored or queued for a message that fails any
check (AR); AA is sent only once the change is safely on the `hl7-appointments` queue (AE otherwise).

The message is parsed once, here. What is queued is the typed change the processor needs, in the organisation's
geography's account, without the patient's name, date of birth, MRN or the EHR's visit number, and with the phone
number only when the endpoint sends texts, and then sealed, so a poison queue holds nothing that identifies a
patient. The endpoint, the organisation, the signing certificate and the SMS settings are read at most once a
minute per worker: an ingest is one signature check, one parse and one queue put.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shared.core import telemetry
from shared.core.clock import Clock
from shared.core.errors import NotFound
from shared.core.ttl import TtlCache
from shared.hl7 import AckCode, Hl7Rejected
from shared.hl7.ack import HTTP_STATUS, build_ack
from shared.hl7.framing import unframe
from shared.hl7.signature import verify_signature
from shared.hl7.siu import parse_siu
from shared.messaging.texts import SmsService
from shared.scheduling.appointments import change_from
from shared.scheduling.sealing import PhoneSeal
from shared.setup.certificates import CertificateService
from shared.setup.lookups import LOOKUP_TTL, ControlLookups
from shared.setup.models import EndpointStatus, FhirEndpoint, SigningCertificate
from shared.setup.tables import FhirEndpointRepository
from shared.storage.queue_names import HL7_APPOINTMENTS
from shared.storage.queues import GeographyQueues
from shared.storage.routing import Tables

log = logging.getLogger(__name__)


ENDPOINT_ID = re.compile(r"^[0-9a-f]{16}$")  # what EndpointService makes; anything else is no endpoint of ours
UNKNOWN_FOR = timedelta(minutes=1)  # an unknown endpoint ID is looked up again after this, not on every request
MAX_UNKNOWN = 10_000
MAX_QUEUED_BYTES = 48 * 1024  # a queue message holds 64 KB once Base64-encoded
MAX_CLOCK_SKEW = timedelta(minutes=5)  # a later MSH-7 would order after every real message and freeze the visit


@dataclass(frozen=True)
class Acknowledgement:
    code: AckCode
    body: str

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]


@dataclass(kw_only=True, eq=False)
class Hl7Ingest:
    tables: Tables
    lookups: ControlLookups
    certificates: CertificateService
    sms: SmsService
    seal: PhoneSeal
    queues: GeographyQueues
    clock: Clock
    max_age: timedelta

    def __post_init__(self) -> None:
        self.endpoints = self.tables.control(FhirEndpointRepository)
        self._certificates: TtlCache[tuple[str, str], SigningCertificate | None] = TtlCache(self.clock, LOOKUP_TTL)
        self._owners: dict[str, str] = {}  # endpoint ID -> tenant ID; never changes, so cached per worker
        self._unknown: dict[str, datetime] = {}  # endpoint ID -> when to look again
        self._lock = threading.Lock()

    def _endpoint(self, endpoint_id: str) -> FhirEndpoint | None:
        """The endpoint; unknown IDs are remembered for a minute, so a flood of them costs no table scans."""
        if not ENDPOINT_ID.match(endpoint_id):
            return None
        now = self.clock.now()
        with self._lock:
            tenant = self._owners.get(endpoint_id)
            retry_at = self._unknown.get(endpoint_id)
        if tenant is not None:
            return self.lookups.endpoint(tenant, endpoint_id)
        if retry_at is not None and now < retry_at:
            return None
        found = next(iter(self.endpoints.iterate(query="id eq @id", parameters={"id": endpoint_id})), None)
        with self._lock:
            if found is not None:
                self._owners[endpoint_id] = found.tenant_id
                self._unknown.pop(endpoint_id, None)
            else:
                if len(self._unknown) >= MAX_UNKNOWN:
                    self._unknown.clear()
                self._unknown[endpoint_id] = now + UNKNOWN_FOR
        return found

    def receive(
        self, endpoint_id: str, body: bytes, *, content_type: str | None, signature: str | None
    ) -> Acknowledgement:
        now = self.clock.now()
        control_id: str | None = None
        text: str | None = None
        telemetry.bind(endpoint_id=endpoint_id)
        try:
            endpoint = self._endpoint(endpoint_id)
            if endpoint is None or endpoint.status != EndpointStatus.APPROVED:
                raise Hl7Rejected("This HL7 endpoint is not configured or not approved.")
            organisation = self.lookups.organisation(endpoint.tenant_id)
            certificate = self._certificate(endpoint)
            if certificate is None or organisation is None:
                raise Hl7Rejected(f"No HL7 signing certificate is uploaded for the {endpoint.environment} environment.")
            verify_signature(body, signature, certificate.der, now)
            text = unframe(body, content_type)
            if len(text.encode()) > MAX_QUEUED_BYTES:
                raise Hl7Rejected("The message is too large for a scheduling message (48 KB at most).")
            event = parse_siu(text, ZoneInfo(endpoint.time_zone), phone_region=organisation.sms_country)
            control_id = event.message_id
            telemetry.bind(tenant_id=endpoint.tenant_id, hl7_control_id=control_id)
            if event.message_time is None:
                raise Hl7Rejected("MSH-7 (message time) is missing or not a valid time; it was not processed.")
            if now - event.message_time > self.max_age:
                raise Hl7Rejected("The message is older than the accepted window (MSH-7); it was not processed.")
            if event.message_time - now > MAX_CLOCK_SKEW:
                raise Hl7Rejected("MSH-7 (message time) is in the future; check the sender's clock.")
        except Hl7Rejected as rejected:
            log.warning("HL7 message %s for endpoint %s rejected: %s", control_id, endpoint_id, rejected.detail)
            original = text if text is not None else _readable(body, content_type)
            return Acknowledgement("AR", build_ack(code="AR", message=original, now=now, text=rejected.detail))
        settings = self.sms.settings_for(endpoint.tenant_id, endpoint.id, cached=True)
        change = change_from(
            event,
            tenant_id=endpoint.tenant_id,
            endpoint_id=endpoint.id,
            received_at=now,
            seal=self.seal if settings is not None and settings.sender_number else None,
        )
        try:
            self.queues.send(organisation.geography, HL7_APPOINTMENTS, change)
        except Exception:
            log.exception("HL7 message %s for endpoint %s could not be queued", control_id, endpoint_id)
            return Acknowledgement("AE", build_ack(code="AE", message=text, now=now, text="Not queued; send it again."))
        log.info("HL7 message %s (%s) for endpoint %s queued", control_id, event.event, endpoint_id)
        return Acknowledgement("AA", build_ack(code="AA", message=text, now=now))

    def _certificate(self, endpoint: FhirEndpoint) -> SigningCertificate | None:
        def load() -> SigningCertificate | None:
            try:
                return self.certificates.for_environment(endpoint.tenant_id, endpoint.environment)
            except NotFound:
                return None

        key = (endpoint.tenant_id, endpoint.environment)
        certificate = self._certificates.get(key, load)
        if certificate is None:
            self._certificates.forget(key)  # uploaded later: used at once
        return certificate


def _readable(body: bytes, content_type: str | None) -> str | None:
    """The message text for the ACK's header, when the message was refused before it was read (unknown endpoint,
    bad signature); None if it cannot be read at all."""
    try:
        return unframe(body, content_type)
    except Hl7Rejected:
        return None
