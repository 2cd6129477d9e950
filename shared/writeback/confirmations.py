"""A patient's confirmation (a reply "C" to a text) told to the EHR: on FHIR endpoints that write back, the
patient participant of the visit's Appointment becomes `accepted` (fhir.py, with `If-Match`).

The FHIR Appointment is named by the visit's launches (HL7 scheduling messages carry no FHIR ID, and the
connector keeps no EHR visit number): a confirmation made before the visit's meeting exists is written back when
the launch that makes it names the Appointment (`meeting_created`). A writeback that fails is logged; neither the
patient's answer nor the launch is held up by it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from shared.setup.models import Organisation
from shared.setup.tables import OrganisationRepository
from shared.storage.routing import Tables
from shared.visits.models import MeetingLink
from shared.visits.tables import AppointmentRepository, MeetingLinkRepository
from shared.writeback.delivery import EhrWriteback
from shared.writeback.ehr import VisitContext, WritebackError
from shared.writeback.ehr.fhir import FhirWriteback

log = logging.getLogger(__name__)

Outcome = Literal["written", "not written back", "appointment not known", "failed"]


@dataclass(kw_only=True, eq=False)
class ConfirmationWriteback:
    tables: Tables
    writeback: EhrWriteback
    fhir: FhirWriteback

    def meeting_created(self, tenant_id: str, link: MeetingLink) -> Outcome:
        """A visit's meeting was made, with the FHIR Appointment its launch named: the patient's earlier
        confirmation, if any, goes to the EHR now."""
        if not link.references.appointment_ids:
            return "appointment not known"
        organisation = self.tables.control(OrganisationRepository).find(tenant_id, "organisation")
        if organisation is None:
            return "not written back"
        appointment = self.tables.data(organisation, AppointmentRepository).find(link.endpoint_id, link.appointment_key)
        if appointment is None or appointment.confirmed_at is None:
            return "not written back"
        return self.confirmed(organisation, link.endpoint_id, link.appointment_key, link)

    def confirmed(
        self, organisation: Organisation, endpoint_id: str, appointment_key: str, link: MeetingLink | None = None
    ) -> Outcome:
        target = self.writeback.target(organisation, endpoint_id)
        if target is None or target[1].adapter != "fhir":
            return "not written back"  # Epic's connection status web service has no word for it
        link = link or self.tables.data(organisation, MeetingLinkRepository).find(endpoint_id, appointment_key)
        if link is None or not link.references.appointment_ids:
            log.info("Confirmation for endpoint %s kept: the visit's FHIR Appointment is not known yet", endpoint_id)
            return "appointment not known"
        visit = VisitContext(target[0], target[1], link.references, appointment_key, patient_seen_before=False)
        try:
            for appointment in link.references.appointment_ids:
                self.fhir.accept(visit, appointment)
        except WritebackError as error:
            log.warning("Confirmation writeback for endpoint %s failed: %s", endpoint_id, error.detail)
            return "failed"
        log.info("Confirmation written back for endpoint %s", endpoint_id)
        return "written"
