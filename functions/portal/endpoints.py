"""FHIR endpoints: the EHR servers an organisation connects, each probed for its SMART configuration."""

from __future__ import annotations

from functions.portal.parameters import EndpointPath
from functions.portal.registry import Call, api
from shared.setup.models import (
    EndpointList,
    FhirEndpoint,
    FhirEndpointCreate,
    FhirEndpointPublic,
    FhirEndpointUpdate,
)
from shared.setup.record_models import IntegrationRecords
from shared.visits.launch_problems import LaunchProblem


@api.route("GET", "portal/endpoints", summary="List FHIR endpoints", tag="endpoints", response=EndpointList)
def list_endpoints(call: Call[None]) -> list[FhirEndpoint]:
    return call.runtime.setup.endpoints.list_endpoints(call.principal)


@api.route(
    "POST",
    "portal/endpoints",
    summary="Add a FHIR endpoint (probes its SMART discovery)",
    tag="endpoints",
    request=FhirEndpointCreate,
    response=FhirEndpointPublic,
    status=201,
    errors=(409, 502),
)
def create_endpoint(call: Call[FhirEndpointCreate]) -> FhirEndpoint:
    return call.runtime.setup.endpoints.create(call.principal, call.body)


@api.route(
    "GET",
    "portal/endpoints/{endpoint_id}",
    summary="Read a FHIR endpoint",
    tag="endpoints",
    response=FhirEndpointPublic,
    parameters=EndpointPath,
)
def get_endpoint(call: Call[None]) -> FhirEndpoint:
    return call.runtime.setup.endpoints.get(call.principal, call.param("endpoint_id"))


@api.route(
    "PATCH",
    "portal/endpoints/{endpoint_id}",
    summary="Change a FHIR endpoint",
    description="Changing anything but the display name of an endpoint that is past draft sends it back to "
    "pending_approval: the approver signs in to the EHR and approves again.",
    tag="endpoints",
    request=FhirEndpointUpdate,
    response=FhirEndpointPublic,
    errors=(409, 502),
    parameters=EndpointPath,
)
def update_endpoint(call: Call[FhirEndpointUpdate]) -> FhirEndpoint:
    return call.runtime.setup.endpoints.update(call.principal, call.param("endpoint_id"), call.body)


@api.route(
    "DELETE",
    "portal/endpoints/{endpoint_id}",
    summary="Remove a FHIR endpoint",
    tag="endpoints",
    status=204,
    response_kind="empty",
    parameters=EndpointPath,
)
def delete_endpoint(call: Call[None]) -> None:
    call.runtime.setup.endpoints.delete(call.principal, call.param("endpoint_id"))


@api.route(
    "POST",
    "portal/endpoints/{endpoint_id}/release-url",
    summary="Give up the endpoint's FHIR base URL, so that another organisation can approve it",
    description="Admins of the organisation that approved the URL first. The URL stays the organisation's while "
    "its endpoint waits for a new approval; releasing it is the only way to hand it over without deleting the "
    "endpoint. Refused (409) while the endpoint is approved. Audited.",
    tag="endpoints",
    response=FhirEndpointPublic,
    errors=(409,),
    parameters=EndpointPath,
)
def release_endpoint_url(call: Call[None]) -> FhirEndpoint:
    return call.runtime.setup.endpoints.release_url(call.principal, call.param("endpoint_id"))


@api.route(
    "GET",
    "portal/endpoints/{endpoint_id}/integration-records",
    summary="The records an EHR analyst enters into the EHR (approved endpoints only)",
    tag="integration",
    response=IntegrationRecords,
    errors=(409,),
    parameters=EndpointPath,
)
def integration_records(call: Call[None]) -> IntegrationRecords:
    return call.runtime.setup.integration_records.records(call.principal, call.param("endpoint_id"))


@api.route(
    "GET",
    "portal/endpoints/{endpoint_id}/launch-problem",
    summary="Why the endpoint's last failed launch failed",
    description="Clinicians and patients read one plain sentence when a launch fails; this is the detail (the EHR's "
    "URLs and HTTP statuses) for the admin and the EHR analyst. 404 when no launch has failed.",
    tag="endpoints",
    response=LaunchProblem,
    errors=(404,),
    parameters=EndpointPath,
)
def endpoint_launch_problem(call: Call[None]) -> LaunchProblem:
    return call.runtime.visits.launch_problems.last(call.principal, call.param("endpoint_id"))
