""" "I lost my link": a patient types their mobile number on their clinic's page (`/api/lost-link/{endpoint_id}`);
if that number has an appointment of the endpoint whose join link works now or opens within the next 24 hours,
the link is texted to that number again (never shown). The page answers the same whatever the number has: the
request only seals the number and queues it (the same work either way), and the `lost-links` trigger looks it up.

Limits: per client address and per number (a keyed hash of it), in each instance's memory; across instances, an
appointment's link goes again at most once per 10 minutes (the text's record is keyed by that window, so the
dispatcher sends one). Nothing is stored beyond what the appointment keeps: the number is found by the
appointments' own phone field, within the endpoint's partition."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared.core.clock import Clock
from shared.core.errors import DomainError, InvalidInput, NotFound
from shared.core.i18n import N_
from shared.core.ratelimit import TokenBucket
from shared.core.settings import Geography
from shared.hl7.siu import AppointmentStatus
from shared.messaging.patient_notices import PatientNotices
from shared.messaging.texts import SmsService
from shared.scheduling.models import LostLinkRequest
from shared.scheduling.sealing import PhoneSeal
from shared.setup.lookups import ControlLookups
from shared.setup.models import EndpointStatus, FhirEndpoint, Organisation
from shared.setup.tables import FhirEndpointRepository
from shared.storage.queue_names import LOST_LINKS
from shared.storage.queues import GeographyQueues
from shared.storage.routing import Tables
from shared.visits.tables import AppointmentRepository

ENDPOINT_ID = re.compile(r"^[0-9a-f]{16}$")
AHEAD = timedelta(hours=24)  # a link that opens within this long is sent
ONCE_PER = timedelta(minutes=10)  # an appointment's link goes again at most once per this window
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class TooManyTries(DomainError):
    title = "Too many tries"

    def __init__(self, minutes: int) -> None:
        super().__init__(f"Too many tries: wait {minutes} minutes, then try again.")
        self.minutes = minutes


@dataclass(kw_only=True, eq=False)
class LostLinks:
    tables: Tables
    lookups: ControlLookups
    queues: GeographyQueues
    seal: PhoneSeal
    sms: SmsService
    notices: PatientNotices
    clock: Clock
    opens_before: timedelta
    """How long before its appointment a join link opens."""
    per_address_per_hour: int = 10
    per_number_per_hour: int = 3
    _owners: dict[str, str] = field(default_factory=dict, init=False)
    _unknown: dict[str, datetime] = field(default_factory=dict, init=False)
    """Endpoint IDs not found, until when they are not looked up again (a flood of made-up IDs costs no scans)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._addresses = TokenBucket(self.per_address_per_hour / 60, self.per_address_per_hour, self.clock)
        self._numbers = TokenBucket(self.per_number_per_hour / 60, self.per_number_per_hour, self.clock)

    def endpoint(self, endpoint_id: str) -> tuple[Organisation, FhirEndpoint]:
        """The approved endpoint whose page this is (its organisation found once per instance), or NotFound."""
        gone = NotFound(N_("This page is not set up. Use the link on your clinic's website, or call your clinic."))
        if not ENDPOINT_ID.match(endpoint_id):
            raise gone
        now = self.clock.now()
        with self._lock:
            tenant = self._owners.get(endpoint_id)
            if tenant is None and now < self._unknown.get(endpoint_id, now):
                raise gone
        if tenant is None:
            repository = self.tables.control(FhirEndpointRepository)
            found = next(iter(repository.iterate(query="id eq @id", parameters={"id": endpoint_id})), None)
            if found is None:
                with self._lock:
                    if len(self._unknown) >= 10_000:
                        self._unknown.clear()
                    self._unknown[endpoint_id] = now + timedelta(minutes=1)
                raise gone
            tenant = found.tenant_id
            with self._lock:
                self._owners[endpoint_id] = tenant
        organisation = self.lookups.organisation(tenant)
        endpoint = self.lookups.endpoint(tenant, endpoint_id)
        if organisation is None or endpoint is None or endpoint.status != EndpointStatus.APPROVED:
            raise gone
        return organisation, endpoint

    def request(self, endpoint_id: str, typed: str, address: str) -> None:
        """Queue the lookup of a typed number. Raises NotFound (no such page), InvalidInput (not a mobile number
        of the organisation's SMS country) or TooManyTries; otherwise the same whatever the number has."""
        organisation, endpoint = self.endpoint(endpoint_id)
        self._take(self._addresses, address)
        phone = self._mobile(organisation, typed)
        self._take(self._numbers, self.sms.number_hash(phone))
        request = LostLinkRequest(
            tenant_id=organisation.tenant_id,
            endpoint_id=endpoint.id,
            phone_sealed=self.seal.seal(phone, _bound(endpoint.id)),
            asked_at=self.clock.now(),
        )
        self.queues.send(organisation.geography, LOST_LINKS, request)

    def handle(self, geography: Geography, body: bytes) -> int:
        """The `lost-links` trigger: text the link of each appointment of that number whose link works now or
        within the next 24 hours; how many were queued."""
        request = LostLinkRequest.model_validate_json(body)
        organisation = self.lookups.organisation(request.tenant_id)
        if organisation is None or organisation.geography != geography:
            return 0
        phone = self.seal.open(request.phone_sealed, _bound(request.endpoint_id))
        now = self.clock.now()
        appointments = self.tables.data(organisation, AppointmentRepository).iterate(
            request.endpoint_id,
            query="phone eq @phone and end gt @now and start lt @until",
            parameters={"phone": phone, "now": now, "until": now + AHEAD + self.opens_before},
        )
        window = now - (now - EPOCH) % ONCE_PER  # the same for every request of these 10 minutes
        queued = 0
        for appointment in appointments:
            if appointment.status == AppointmentStatus.BOOKED:
                queued += self.notices.queue_resend(organisation, appointment, window)
        return queued

    def _take(self, bucket: TokenBucket, key: str) -> None:
        wait = bucket.take(key)
        if wait > 0:
            raise TooManyTries(max(1, int(wait // 60) + 1))

    @staticmethod
    def _mobile(organisation: Organisation, typed: str) -> str:
        import phonenumbers

        bad = InvalidInput(
            "This is not a mobile number: type the number your clinic texts, with its area code.", {"phone": "a number"}
        )
        if len(typed) > 40:
            raise bad
        try:
            parsed = phonenumbers.parse(typed, organisation.sms_country)
        except phonenumbers.NumberParseException:
            raise bad from None
        if not phonenumbers.is_valid_number(parsed):
            raise bad
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _bound(endpoint_id: str) -> str:
    """What a sealed number is bound to: it opens only as this endpoint's lost-link request."""
    return f"lost-link|{endpoint_id}"
