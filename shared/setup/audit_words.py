"""The audit log in words: what each recorded action means, named by what it was about ("approved
https://fhir.example/R4 for production"). Older entries carry no subject; they are named by today's endpoint, or by
their ID when it has gone."""

from __future__ import annotations

from collections.abc import Mapping

from shared.setup.audit_models import AuditEntryPublic
from shared.setup.models import FhirEndpoint

_ENVIRONMENT = {"prod": "production", "test": "test"}
_CONSENTS = {"sms_terms": "the SMS terms", "patient_messaging": "the patient messaging terms"}

# (entity, action): the words, with {endpoint} (its URL), {environment}, {id} and {fields}.
_WORDS: dict[tuple[str, str], str] = {
    ("organisation", "create"): "set up the organisation",
    ("organisation", "update"): "changed the organisation's settings ({fields})",
    ("fhir_endpoint", "create"): "added the FHIR endpoint {endpoint}",
    ("fhir_endpoint", "update"): "changed the FHIR endpoint {endpoint} ({fields})",
    ("fhir_endpoint", "submit"): "submitted {endpoint} for approval",
    ("fhir_endpoint", "delete"): "deleted the FHIR endpoint {endpoint}",
    ("fhir_endpoint", "release_url"): "released the FHIR base URL {endpoint} for other organisations",
    ("fhir_endpoint", "validate"): "signed in to the EHR at {endpoint} to prove it",
    ("fhir_endpoint", "approve"): "approved {endpoint} for {environment}",
    ("fhir_endpoint", "reject"): "rejected {endpoint} for {environment}",
    ("writeback_settings", "update"): "changed the EHR writeback settings of {endpoint} ({fields})",
    ("sms_settings", "update"): "changed the texts and their templates of {endpoint}",
    ("sms_settings", "link"): "linked a phone number to {endpoint}",
    ("sms_settings", "unlink"): "unlinked a phone number from {endpoint}",
    ("certificate", "upload"): "uploaded the HL7 signing certificate for {id_environment}",
    ("phone_number", "order"): "ordered a phone number",
    ("phone_number", "release"): "asked to release a phone number",
    ("phone_number", "acquired"): "got the phone number they ordered",
    ("phone_number", "released"): "released a phone number",
    ("clinician", "link"): "linked their Microsoft 365 account, as a clinician of {endpoint}",
    ("clinician", "unlink"): "unlinked a clinician's Microsoft 365 account from {endpoint}",
    ("visit", "invite"): "invited a guest to a visit",
    ("visit", "notify_late"): "texted a visit's patient that the clinician is running late",
    ("writeback", "replay"): "replayed a failed EHR writeback",
    ("sms_message", "resend"): "sent a failed text again",
}


def describe(entry: AuditEntryPublic, endpoints: Mapping[str, FhirEndpoint]) -> str:
    """One sentence without its subject (the person): what they did."""
    if entry.entity == "sms_consent":
        return f"accepted {_CONSENTS.get(entry.entity_id, entry.entity_id)}"
    endpoint_id = entry.entity_id.split("/", 1)[0]
    endpoint = endpoints.get(endpoint_id)
    environment = entry.environment or (endpoint.environment if endpoint else None)
    environment = _ENVIRONMENT.get(environment, environment) if environment else "its environment"
    named = entry.subject or (endpoint.base_url if endpoint else f"FHIR endpoint {endpoint_id}")
    words = _WORDS.get((entry.entity, entry.action))
    if words is None:
        return f"{entry.action} {entry.entity.replace('_', ' ')} {entry.entity_id}"
    return words.format(
        endpoint=named,
        environment=environment,
        id_environment=_ENVIRONMENT.get(entry.entity_id, entry.entity_id),
        fields=", ".join(entry.fields).replace("_", " ") or "no fields",
    )
