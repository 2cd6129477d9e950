"""The integration records an EHR analyst copies into the EHR once an endpoint is approved: for Epic these are
FDI records (launch URL with Epic's context tokens, client ID, redirect URI); for other SMART EHRs the same
values without the Epic tokens."""

from __future__ import annotations

from shared.auth.principal import Principal, Role
from shared.errors import Conflict
from shared.models.endpoint import (
    EndpointStatus,
    FhirEndpoint,
    IntegrationRecord,
    IntegrationRecords,
    IntegrationValue,
)
from shared.services.endpoints import EndpointService

# Epic context tokens the launch records pass through (see the launch issue): visit CSN, group-visit conference
# ID, and the performing department for reports.
EPIC_PROVIDER_CONTEXT = "sessionId=%CSN%&conferenceId=%CONFERENCEID%&departmentId=%PERFDEPID;;; ; ;;NONE;%"
EPIC_PATIENT_CONTEXT = "sessionId=%CSN%&conferenceId=%CONFERENCEID%"
SIU_EVENTS = "SIU^S12, SIU^S13, SIU^S14, SIU^S15, SIU^S17, SIU^S26"


def _values(**pairs: str) -> list[IntegrationValue]:
    return [IntegrationValue(name=name.replace("_", " ").capitalize(), value=value) for name, value in pairs.items()]


def build_records(endpoint: FhirEndpoint, public_base: str) -> IntegrationRecords:
    api = f"{public_base}/api"
    epic = endpoint.vendor == "epic"
    provider_url = f"{api}/launch/provider" + (f"?{EPIC_PROVIDER_CONTEXT}" if epic else "")
    patient_url = f"{api}/launch/patient" + (f"?{EPIC_PATIENT_CONTEXT}" if epic else "")
    launch_type = "SMART on FHIR EHR launch; the EHR adds iss and launch to the URL"
    records = [
        IntegrationRecord(
            kind="provider_launch",
            title="Provider launch record",
            description='Behind the clinician\'s "Begin virtual visit" button.',
            values=_values(
                launch_url=provider_url,
                launch_type=launch_type,
                client_id=endpoint.client_id,
                redirect_uri=f"{api}/launch/callback",
                fhir_base_url=endpoint.base_url,
            ),
        ),
        IntegrationRecord(
            kind="patient_launch",
            title="Patient launch record",
            description='Behind the patient portal\'s "Begin virtual visit" button.',
            values=_values(
                launch_url=patient_url,
                launch_type=launch_type,
                client_id=endpoint.client_id,
                redirect_uri=f"{api}/launch/callback",
                fhir_base_url=endpoint.base_url,
            ),
        ),
        IntegrationRecord(
            kind="sms_direct",
            title="SMS direct record",
            description="The link patients receive by SMS; the connector signs one token per appointment and role.",
            values=_values(join_link=f"{api}/join/{{token}}", sign_in_needed="No"),
        ),
        IntegrationRecord(
            kind="sms_configuration",
            title="SMS configuration record",
            description="Where the EHR sends signed HL7v2 scheduling messages for SMS confirmations and reminders.",
            values=_values(
                hl7_endpoint=f"{api}/hl7/{endpoint.id}",
                method="POST (HL7 over HTTP)",
                content_type="application/hl7-v2; charset=utf-8",
                signature_header="HL7-Signature: SHA512withRSA <base64 signature of the message bytes>",
                certificate_environment=endpoint.environment,
                message_types=SIU_EVENTS,
            ),
        ),
        IntegrationRecord(
            kind="device_test",
            title="Device test record",
            description="Lets patients check camera, microphone and speaker before the visit.",
            values=_values(launch_url=f"{api}/device-test", sign_in_needed="No"),
        ),
    ]
    return IntegrationRecords(endpoint_id=endpoint.id, base_url=endpoint.base_url, records=records)


class IntegrationRecordService:
    def __init__(self, endpoints: EndpointService, public_base: str) -> None:
        self._endpoints = endpoints
        self._public_base = public_base

    def records(self, principal: Principal, endpoint_id: str) -> IntegrationRecords:
        principal.require(Role.ADMIN, Role.APPROVER)
        endpoint = self._endpoints.get(principal, endpoint_id)
        if endpoint.status != EndpointStatus.APPROVED:
            raise Conflict(
                f"Integration records are shown once the endpoint is approved; it is {endpoint.status.value}."
            )
        return build_records(endpoint, self._public_base)
