"""Phone number jobs, advanced from the `phone-number-jobs` queue.

Acquiring is a search and then a purchase, each a provider operation of up to minutes; releasing is one more.
Each delivery checks the running operation once and, while it runs, puts the job back on the queue with a
delay. The job row holds the operation's token, so a restarted host resumes the same operation instead of
starting another. A purchase that finished unseen (the operation expired meanwhile) is recognised by asking
whether the number is held.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.core.clock import Clock
from shared.core.errors import Conflict, NotFound
from shared.messaging.models import FINISHED, PhoneNumber, PhoneNumberJob, PhoneNumberJobMessage
from shared.messaging.providers.numbers import NumberSearch, PhoneNumberFailed, PhoneNumberProvider, StillRunning
from shared.messaging.tables import PhoneNumberJobRepository, PhoneNumberRepository
from shared.setup.audit import AuditLog
from shared.storage.queue_names import PHONE_NUMBER_JOBS
from shared.storage.queues import QueueSender
from shared.storage.routing import Tables

log = logging.getLogger(__name__)


@dataclass(kw_only=True, eq=False)
class PhoneNumberJobs:
    tables: Tables
    provider: PhoneNumberProvider
    queues: QueueSender
    audit: AuditLog
    clock: Clock
    poll_seconds: int
    max_polls: int

    def __post_init__(self) -> None:
        self._numbers = self.tables.control(PhoneNumberRepository)
        self._jobs = self.tables.control(PhoneNumberJobRepository)

    def advance(self, message: PhoneNumberJobMessage) -> PhoneNumberJob | None:
        """Take the job as far as it goes now; re-queue it (delayed) while an operation runs."""
        try:
            stored = self._jobs.get_versioned(message.tenant_id, message.job_id)
        except NotFound:
            log.warning("Phone number job %s no longer exists; dropped", message.job_id)
            return None
        job, etag = stored.item, stored.etag
        try:
            while job.status not in FINISHED:
                job = self._step(job)
                etag = self._save(job, etag)
        except StillRunning:
            job = job.model_copy(update={"polls": job.polls + 1, "updated_at": self.clock.now()})
            if job.polls >= self.max_polls:
                job = self._fail(job, "The provider did not finish in time; try again.")
                self._save(job, etag)
                return job
            self._save(job, etag)
            self.queues.send(PHONE_NUMBER_JOBS, message, delay_seconds=self.poll_seconds)
            return job
        except PhoneNumberFailed as failure:
            job = self._fail(job, failure.detail)
            self._save(job, etag)
        except Conflict:
            log.info("Phone number job %s was advanced by another delivery", job.id)
            return None
        log.info("Phone number job %s (%s) %s", job.id, job.kind, job.status)
        return job

    def _step(self, job: PhoneNumberJob) -> PhoneNumberJob:
        now = self.clock.now()
        if job.kind == "purchase":
            if job.status == "queued":
                assert job.order is not None
                order = job.order
                token = self.provider.begin_search(NumberSearch(order.country_code, order.number_type, order.area_code))
                return job.model_copy(update={"status": "searching", "operation": token, "updated_at": now})
            if job.status == "searching":
                found = self.provider.search_result(job.operation or "")
                token = self.provider.begin_purchase(found.search_id)
                update = {
                    "status": "purchasing",
                    "number": found.numbers[0],
                    "search_id": found.search_id,
                    "operation": token,
                    "monthly_cost": found.monthly_cost,
                    "updated_at": now,
                }
                return job.model_copy(update=update)
            if job.status == "purchasing":
                try:
                    self.provider.purchase_result(job.operation or "")
                except PhoneNumberFailed:
                    if not (job.number and self.provider.holds(job.number)):
                        raise
                return self._acquired(job)
        else:
            if job.status == "queued":
                token = self.provider.begin_release(job.number or "")
                return job.model_copy(update={"status": "releasing", "operation": token, "updated_at": now})
            if job.status == "releasing":
                self.provider.release_result(job.operation or "")
                self._numbers.delete(job.tenant_id, job.number or "")
                self.audit.record(
                    tenant_id=job.tenant_id,
                    user_id=job.created_by,
                    action="released",
                    entity="phone_number",
                    entity_id=job.id,
                )
                return job.model_copy(update={"status": "succeeded", "operation": None, "updated_at": now})
        raise PhoneNumberFailed(f"The job is in an unexpected state ({job.kind}, {job.status}).")

    def _acquired(self, job: PhoneNumberJob) -> PhoneNumberJob:
        assert job.order is not None and job.number is not None
        now = self.clock.now()
        self._numbers.upsert(
            PhoneNumber(
                tenant_id=job.tenant_id,
                number=job.number,
                country_code=job.order.country_code,
                number_type=job.order.number_type,
                monthly_cost=job.monthly_cost,
                acquired_at=now,
                acquired_by=job.created_by,
            )
        )
        self.audit.record(
            tenant_id=job.tenant_id,
            user_id=job.created_by,
            action="acquired",
            entity="phone_number",
            entity_id=job.id,
        )
        return job.model_copy(update={"status": "succeeded", "operation": None, "updated_at": now})

    def _fail(self, job: PhoneNumberJob, reason: str) -> PhoneNumberJob:
        if job.kind == "release" and job.number:
            held = self._numbers.find(job.tenant_id, job.number)
            if held is not None:
                self._numbers.upsert(held.model_copy(update={"status": "active"}))
        return job.model_copy(
            update={"status": "failed", "error": reason, "operation": None, "updated_at": self.clock.now()}
        )

    def _save(self, job: PhoneNumberJob, etag: str) -> str:
        return self._jobs.replace(job, etag).etag
