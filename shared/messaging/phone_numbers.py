"""The organisation's SMS numbers (portal): acquire one, list, link to endpoints, release.

Acquiring and releasing are jobs: the portal gets the job at once (202), and number_jobs.py advances it from
the `phone-number-jobs` queue.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import Conflict, InvalidInput, NotFound, Unprocessable
from shared.messaging.models import (
    E164,
    FINISHED,
    PhoneNumber,
    PhoneNumberJob,
    PhoneNumberJobMessage,
    PhoneNumberJobPublic,
    PhoneNumberList,
    PhoneNumberOrder,
    PhoneNumberPublic,
    SmsSettings,
)
from shared.messaging.sms_setup import SmsSetup
from shared.messaging.tables import PhoneNumberJobRepository, PhoneNumberRepository, SmsSettingsRepository
from shared.setup.audit import AuditLog
from shared.setup.endpoints import EndpointService
from shared.setup.lookups import ControlLookups
from shared.storage.queue_names import PHONE_NUMBER_JOBS
from shared.storage.queues import QueueSender
from shared.storage.repository import Versioned
from shared.storage.routing import Tables

log = logging.getLogger(__name__)


RECENT_JOBS = timedelta(days=1)


@dataclass(kw_only=True, eq=False)
class PhoneNumberService:
    tables: Tables
    queues: QueueSender
    setup: SmsSetup
    endpoints: EndpointService
    audit: AuditLog
    clock: Clock
    lookups: ControlLookups

    def __post_init__(self) -> None:
        self._numbers = self.tables.control(PhoneNumberRepository)
        self._jobs = self.tables.control(PhoneNumberJobRepository)
        self._settings = self.tables.control(SmsSettingsRepository)

    # --- portal ---

    def list_numbers(self, principal: Principal) -> PhoneNumberList:
        principal.require(Role.ADMIN, Role.APPROVER)
        links = self._links(principal.tenant_id)
        items = [self._public(n, links) for n in self._numbers.iterate(principal.tenant_id)]
        since = self.clock.now() - RECENT_JOBS
        jobs = [
            PhoneNumberJobPublic.of(job)
            for job in sorted(self._jobs.iterate(principal.tenant_id), key=lambda j: j.created_at, reverse=True)
            if job.status not in FINISHED or job.updated_at >= since
        ]
        return PhoneNumberList(items=items, jobs=jobs)

    def order(self, principal: Principal, order: PhoneNumberOrder) -> PhoneNumberJob:
        principal.require(Role.ADMIN)
        if not self.setup.has_consents(principal.tenant_id):
            raise Conflict("Give both SMS consents before acquiring a phone number.")
        running = [
            j for j in self._jobs.iterate(principal.tenant_id) if j.kind == "purchase" and j.status not in FINISHED
        ]
        if running:
            raise Conflict(f"A phone number is already being acquired (job {running[0].id}); wait for it to finish.")
        order = self._in_sms_country(principal, order)
        job = self._new_job(principal, "purchase", order=order)
        self.audit.by(
            principal,
            action="order",
            entity="phone_number",
            entity_id=job.id,
            fields=set(order.model_fields_set),
        )
        return job

    def _in_sms_country(self, principal: Principal, order: PhoneNumberOrder) -> PhoneNumberOrder:
        """Numbers are acquired in the organisation's SMS country (the country of the patients it texts)."""
        organisation = self.lookups.organisation(principal.tenant_id)
        if organisation is None:
            raise NotFound("Set up your organisation first.")
        if "country_code" not in order.model_fields_set:
            return order.model_copy(update={"country_code": organisation.sms_country})
        if order.country_code != organisation.sms_country:
            raise Unprocessable(
                f"Your organisation texts patients in {organisation.sms_country}; acquire a number of that country.",
                {"country_code": f"not your organisation's SMS country ({organisation.sms_country})"},
            )
        return order

    def job(self, principal: Principal, job_id: str) -> PhoneNumberJob:
        principal.require(Role.ADMIN, Role.APPROVER)
        job = self._jobs.find(principal.tenant_id, job_id)
        if job is None:
            raise NotFound(f"There is no phone number job {job_id}.")
        return job

    def release(self, principal: Principal, number: str) -> PhoneNumberJob:
        principal.require(Role.ADMIN)
        stored = self._held(principal.tenant_id, number)
        if stored.item.status != "active":
            raise Conflict("This number is already being released.")
        linked = self._links(principal.tenant_id).get(number, [])
        if linked:
            raise Conflict(f"Unlink the number from its endpoints first ({', '.join(linked)}).")
        self._numbers.replace(stored.item.model_copy(update={"status": "releasing"}), stored.etag)
        job = self._new_job(principal, "release", number=number)
        self.audit.by(
            principal,
            action="release",
            entity="phone_number",
            entity_id=job.id,
        )
        return job

    def link(self, principal: Principal, number: str, endpoint_ids: list[str]) -> PhoneNumberPublic:
        """Make exactly `endpoint_ids` send from `number` (validated first; then each endpoint's settings)."""
        principal.require(Role.ADMIN)
        if not self.setup.has_consents(principal.tenant_id):
            raise Conflict("Give both SMS consents before linking phone numbers.")
        held = self._held(principal.tenant_id, number).item
        if held.status != "active":
            raise Conflict("This number is being released; it cannot be linked.")
        endpoints = {e.id: e for e in self.endpoints.list_endpoints(principal)}
        unknown = sorted(set(endpoint_ids) - set(endpoints))
        if unknown:
            raise NotFound(f"Your organisation has no FHIR endpoint {', '.join(unknown)}.")
        wanted = set(endpoint_ids)
        current = {s.endpoint_id: s for s in self._settings.iterate(principal.tenant_id)}
        now = self.clock.now()
        changed: list[str] = []
        for endpoint_id, endpoint in endpoints.items():
            settings = current.get(endpoint_id)
            linked_here = settings is not None and settings.sender_number == number
            if endpoint_id in wanted and not linked_here:
                base = settings or SmsSettings(
                    tenant_id=principal.tenant_id,
                    endpoint_id=endpoint_id,
                    clinic_name=(endpoint.display_name or "Your clinic")[:60],
                    updated_at=now,
                    updated_by=principal.user_id,
                )
                update = {"sender_number": number, "updated_at": now, "updated_by": principal.user_id}
                self._settings.upsert(base.model_copy(update=update))
                changed.append(endpoint_id)
            elif endpoint_id not in wanted and linked_here and settings is not None:
                update = {"sender_number": None, "updated_at": now, "updated_by": principal.user_id}
                self._settings.upsert(settings.model_copy(update=update))
                changed.append(endpoint_id)
        for endpoint_id in changed:
            self.audit.by(
                principal,
                action="link" if endpoint_id in wanted else "unlink",
                entity="sms_settings",
                entity_id=endpoint_id,
                fields={"sender_number"},
            )
        return self._public(held, {number: list(wanted)})

    # --- used by other services ---

    def tenants_of(self, number: str) -> set[str]:
        return {n.tenant_id for n in self._numbers.iterate(query="number eq @number", parameters={"number": number})}

    # --- helpers ---

    def _new_job(self, principal: Principal, kind: str, **fields: object) -> PhoneNumberJob:
        now = self.clock.now()
        job = PhoneNumberJob.model_validate(
            {
                "tenant_id": principal.tenant_id,
                "id": uuid.uuid4().hex,
                "kind": kind,
                "created_by": principal.user_id,
                "created_at": now,
                "updated_at": now,
                **fields,
            }
        )
        self._jobs.create(job)
        self.queues.send(PHONE_NUMBER_JOBS, PhoneNumberJobMessage(tenant_id=job.tenant_id, job_id=job.id))
        return job

    def _held(self, tenant_id: str, number: str) -> Versioned[PhoneNumber]:
        if not re.fullmatch(E164, number):
            raise InvalidInput("A phone number is in E.164 form, e.g. +18335550100.", {"number": "not E.164"})
        try:
            return self._numbers.get_versioned(tenant_id, number)
        except NotFound:
            raise NotFound("Your organisation holds no such phone number.") from None

    def _links(self, tenant_id: str) -> dict[str, list[str]]:
        links: dict[str, list[str]] = {}
        for settings in self._settings.iterate(tenant_id):
            if settings.sender_number:
                links.setdefault(settings.sender_number, []).append(settings.endpoint_id)
        return links

    @staticmethod
    def _public(number: PhoneNumber, links: dict[str, list[str]]) -> PhoneNumberPublic:
        return PhoneNumberPublic(
            linked_endpoint_ids=sorted(links.get(number.number, [])),
            **number.model_dump(exclude={"tenant_id", "acquired_by"}),
        )
