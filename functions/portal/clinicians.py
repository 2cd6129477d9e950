"""Clinicians' Microsoft 365 links, per FHIR endpoint: who has launched visits, whether their meetings are their
own, and unlinking (audited)."""

from __future__ import annotations

from functions.portal.parameters import ClinicianQuery, EndpointPath
from functions.portal.registry import Call, api
from shared.visits.models import ClinicianLink, ClinicianPage, ClinicianUnlink


@api.route(
    "GET",
    "portal/endpoints/{endpoint_id}/clinicians",
    summary="Clinicians who launched visits through an endpoint, and whether each is linked to Microsoft 365",
    description="Linked clinicians organise their own meetings; the others' meetings have the service organizer. "
    "Only EHR user IDs and Entra ID object IDs are kept. 100 per page, with a continuation.",
    tag="clinicians",
    response=ClinicianPage,
    parameters=ClinicianQuery,
)
def list_clinicians(call: Call[None]) -> ClinicianPage:
    query = call.checked(ClinicianQuery)
    return call.runtime.visits.clinicians.page(call.principal, query.endpoint_id, query.continuation)


@api.route(
    "POST",
    "portal/endpoints/{endpoint_id}/clinicians/unlink",
    summary="Unlink a clinician from their Microsoft 365 account",
    description="Their next meetings have the service organizer, until they sign in again on a later launch "
    "(with the endpoint's clinician_sign_in on). Meetings already created keep their organizer. Audited.",
    tag="clinicians",
    request=ClinicianUnlink,
    response=ClinicianLink,
    parameters=EndpointPath,
)
def unlink_clinician(call: Call[ClinicianUnlink]) -> ClinicianLink:
    return call.runtime.visits.clinicians.unlink(call.principal, call.param("endpoint_id"), call.body.ehr_user_id)
