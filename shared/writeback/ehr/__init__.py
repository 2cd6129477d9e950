"""EHR writeback: connect and disconnect events go back to the EHR through one adapter per endpoint.

- `epic.py`: Epic's telehealth connection-status web service (conference ID, external ID, vendor name, status);
- `fhir.py`: an AuditEvent per connect and disconnect referencing the Appointment, and the Appointment's status
  (`arrived` when the patient first connects, `fulfilled` when the visit ends);
- `client.py`: the HTTP calls both make, signed in with SMART backend services, retrying 429 and 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.core.errors import UpstreamError
from shared.setup.models import FhirEndpoint
from shared.visits.models import VisitEvent, VisitReferences
from shared.writeback.models import WritebackSettings


class WritebackError(UpstreamError):
    """The EHR did not take a writeback. `retryable` when trying again later may work (429, 5xx, network)."""

    title = "EHR writeback failed"

    def __init__(self, detail: str, *, retryable: bool) -> None:
        super().__init__(detail)
        self.retryable = retryable


@dataclass(frozen=True)
class VisitContext:
    """What an adapter needs to name the visit to the EHR."""

    endpoint: FhirEndpoint
    settings: WritebackSettings
    references: VisitReferences
    appointment_key: str
    patient_seen_before: bool  # a patient connected in an event written back earlier


class WritebackAdapter(Protocol):
    def write(self, visit: VisitContext, event: VisitEvent) -> None:
        """Write one visit event back (events it has nothing to say about are fine). Raises WritebackError."""
        ...
