"""Why an endpoint's launches fail, for its admins: a clinician or patient reads one plain sentence (never the EHR's
URLs or HTTP statuses), the detail goes to the log and here, the last problem per endpoint (control plane, no
user, no token), written at most once a minute per endpoint and worker so that a failing EHR costs little."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import NotFound
from shared.storage.repository import TableRepository
from shared.storage.routing import Tables

log = logging.getLogger(__name__)

WRITE_EVERY = timedelta(minutes=1)


class LaunchProblem(BaseModel):
    tenant_id: str
    endpoint_id: str
    step: str = Field(description="Where the launch failed: `ehr_sign_in` (token exchange or id_token checks).")
    detail: str = Field(description="What went wrong, for the admin and the EHR analyst (URLs and statuses included).")
    at: datetime = Field(description="When it last happened (UTC).")


class LaunchProblemRepository(
    TableRepository[LaunchProblem], table="launchproblems", keys=("{tenant_id}", "{endpoint_id}")
):
    """The last launch problem of each endpoint (control plane)."""


@dataclass(kw_only=True, eq=False)
class LaunchProblems:
    tables: Tables
    clock: Clock
    _written: dict[tuple[str, str], datetime] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, tenant_id: str, endpoint_id: str, step: str, detail: str) -> None:
        log.warning("Launch failed at %s for endpoint %s: %s", step, endpoint_id, detail[:500])
        now = self.clock.now()
        with self._lock:
            last = self._written.get((tenant_id, endpoint_id))
            if last is not None and now - last < WRITE_EVERY:
                return
            if len(self._written) > 4096:
                self._written.clear()
            self._written[(tenant_id, endpoint_id)] = now
        problem = LaunchProblem(tenant_id=tenant_id, endpoint_id=endpoint_id, step=step, detail=detail[:1000], at=now)
        try:
            self.tables.control(LaunchProblemRepository).upsert(problem)
        except Exception:  # the person's page matters more than the admin's record
            log.exception("The launch problem could not be recorded")

    def last(self, principal: Principal, endpoint_id: str) -> LaunchProblem:
        principal.require(Role.ADMIN, Role.APPROVER)
        problem = self.tables.control(LaunchProblemRepository).find(principal.tenant_id, endpoint_id)
        if problem is None:
            raise NotFound("No launch through this endpoint has failed since the connector started keeping them.")
        return problem
