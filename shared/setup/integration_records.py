"""The integration records an EHR analyst copies into the EHR once an endpoint is approved: for Epic these are
FDI records (launch URL with Epic's context tokens, client ID, redirect URI); for other SMART EHRs the same
values without the Epic tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from shared.auth.principal import Principal, Role
from shared.core.errors import Conflict
from shared.setup.endpoints import EndpointService
from shared.setup.models import EndpointStatus, Environment, FhirEndpoint
from shared.setup.record_models import IntegrationRecord, IntegrationRecordList, IntegrationRecords, IntegrationValue

LAUNCH_SCOPES = "launch openid fhirUser"
"""What both launches ask for (shared/visits/launch.py's LAUNCH_SCOPE; a test holds them equal)."""

# Epic context tokens the launch records return in the token response (never in the launch URL, which anyone can
# edit): visit CSN, group-visit conference ID, the performing department for reports, and which record it is
# (who the user is, where the EHR's fhirUser does not say: shared/visits/roles.py).
EPIC_PROVIDER_CONTEXT = (
    "csn=%CSN%; conferenceId=%CONFERENCEID%; departmentId=%PERFDEPID;;; ; ;;NONE;%; launchRecord=provider"
)


EPIC_PATIENT_CONTEXT = "csn=%CSN%; conferenceId=%CONFERENCEID%; launchRecord=patient"


TOKEN_CONTEXT_NOTE = (
    "Set each as a token-response parameter of the FDI record, not as a URL parameter: the connector identifies "
    "the visit only by what the EHR returns with the access token, and ignores (or refuses, when they disagree) "
    "visit parameters in the launch URL."
)


SIU_EVENTS = "SIU^S12, SIU^S13, SIU^S14, SIU^S15, SIU^S17, SIU^S26"


def _values(*pairs: tuple[str, str]) -> list[IntegrationValue]:
    return [IntegrationValue(name=name, value=value) for name, value in pairs]


def _launch_record(
    kind: Literal["provider_launch", "patient_launch"],
    title: str,
    whose: str,
    endpoint: FhirEndpoint,
    api: str,
    token_context: str | None,
) -> IntegrationRecord:
    path = "provider" if kind == "provider_launch" else "patient"
    values = [
        ("Launch URL", f"{api}/launch/{path}"),
        ("Launch type", "SMART on FHIR EHR launch; the EHR adds iss and launch to the URL"),
        ("Client ID", endpoint.client_id),
        ("Redirect URI", f"{api}/launch/callback"),
        ("Scopes", LAUNCH_SCOPES),
        ("FHIR base URL", endpoint.base_url),
    ]
    if endpoint.client_type == "confidential-asymmetric":
        values.append(("Client authentication", "private_key_jwt (confidential asymmetric client)"))
        values.append(("JWKS URL", f"{api}/.well-known/jwks/{endpoint.tenant_id}"))
    else:
        values.append(("Client authentication", "none (public client with PKCE)"))
    if token_context:
        values.append(("Token response parameters", token_context))
    description = f'Behind the {whose} "Begin virtual visit" button.'
    return IntegrationRecord(
        kind=kind,
        title=title,
        description=f"{description} {TOKEN_CONTEXT_NOTE}" if token_context else description,
        values=_values(*values),
    )


def build_records(
    endpoint: FhirEndpoint, public_base: str, writeback: IntegrationRecord | None = None
) -> IntegrationRecords:
    api = f"{public_base}/api"
    epic = endpoint.vendor == "epic"
    provider_context = EPIC_PROVIDER_CONTEXT if epic else None
    patient_context = EPIC_PATIENT_CONTEXT if epic else None
    records = [
        _launch_record("provider_launch", "Provider launch record", "clinician's", endpoint, api, provider_context),
        _launch_record("patient_launch", "Patient launch record", "patient portal's", endpoint, api, patient_context),
        *([writeback] if writeback else []),
        IntegrationRecord(
            kind="sms_direct",
            title="SMS direct record",
            description="The link patients receive by SMS; the connector signs one token per appointment and role.",
            values=_values(("Join link", f"{api}/join#{{token}}"), ("Sign-in needed", "No")),
        ),
        IntegrationRecord(
            kind="sms_configuration",
            title="SMS configuration record",
            description="Where the EHR sends signed HL7v2 scheduling messages for SMS confirmations and reminders.",
            values=_values(
                ("HL7 endpoint", f"{api}/hl7/{endpoint.id}"),
                ("Method", "POST (HL7 over HTTP)"),
                ("Content type", "application/hl7-v2; charset=utf-8"),
                ("Signature header", "HL7-Signature: SHA512withRSA <base64 signature of the message bytes>"),
                ("Certificate environment", endpoint.environment),
                ("Message types", SIU_EVENTS),
            ),
        ),
        IntegrationRecord(
            kind="device_test",
            title="Device test record",
            description="Lets patients check camera, microphone and speaker before the visit.",
            values=_values(("Launch URL", f"{api}/device-test"), ("Sign-in needed", "No")),
        ),
        IntegrationRecord(
            kind="lost_link",
            title="Lost link page",
            description="For the clinic's website and patient letters: a patient types their mobile number, and the "
            "link of a visit today or tomorrow is texted to it again (never shown).",
            values=_values(("Page URL", f"{api}/lost-link/{endpoint.id}"), ("Sign-in needed", "No")),
        ),
    ]
    return IntegrationRecords(
        endpoint_id=endpoint.id,
        base_url=endpoint.base_url,
        display_name=endpoint.display_name,
        environment=endpoint.environment,
        records=records,
    )


@dataclass(kw_only=True, eq=False)
class IntegrationRecordService:
    endpoints: EndpointService
    public_base: str
    writeback_record: Callable[[FhirEndpoint], IntegrationRecord | None] = lambda endpoint: None
    """The backend-services client of an endpoint that writes back (the writeback feature knows its settings)."""

    def environment(self, principal: Principal, environment: Environment) -> IntegrationRecordList:
        """Every approved endpoint of one environment: the analyst's page (and CSV) for test or for production."""
        principal.require(Role.ADMIN, Role.APPROVER)
        approved = [
            endpoint
            for endpoint in self.endpoints.list_endpoints(principal)
            if endpoint.environment == environment and endpoint.status == EndpointStatus.APPROVED
        ]
        items = [build_records(e, self.public_base, self.writeback_record(e)) for e in approved]
        return IntegrationRecordList(environment=environment, items=items)

    def records(self, principal: Principal, endpoint_id: str) -> IntegrationRecords:
        principal.require(Role.ADMIN, Role.APPROVER)
        endpoint = self.endpoints.get(principal, endpoint_id)
        if endpoint.status != EndpointStatus.APPROVED:
            raise Conflict(
                f"Integration records are shown once the endpoint is approved; it is {endpoint.status.value}."
            )
        return build_records(endpoint, self.public_base, self.writeback_record(endpoint))
