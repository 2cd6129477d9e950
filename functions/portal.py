"""The admin portal API: organisation, FHIR endpoints, approval by EHR sign-in, integration records, audit log,
SMS setup (certificates, consents, phone numbers, settings; phone number jobs run in phone_numbers.py).

Every route but the EHR's redirect back (which a browser follows, and which is protected by its single-use
state) needs a portal bearer token, and every read or write is scoped to the caller's tenant.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import azure.functions as func

from functions._http import api_errors, html_page, json_response, parse_json, portal_caller, redirect
from functions._openapi import ApiRoute, ApiRoutes, build_document
from shared import __version__
from shared.auth.principal import Role
from shared.core.errors import DomainError, InvalidInput, NotFound
from shared.messaging.models import (
    CONSENT_TEXT,
    ConsentList,
    OutboxList,
    OutboxMessagePublic,
    PhoneNumberJob,
    PhoneNumberJobPublic,
    PhoneNumberLinks,
    PhoneNumberList,
    PhoneNumberOrder,
    PhoneNumberPublic,
    SmsSettingsPublic,
    SmsSettingsUpdate,
)
from shared.runtime import get_runtime
from shared.setup.models import (
    AuditPage,
    CertificateList,
    CertificateUpload,
    EndpointList,
    FhirEndpoint,
    FhirEndpointCreate,
    FhirEndpointPublic,
    FhirEndpointUpdate,
    IntegrationRecords,
    OrganisationCreate,
    OrganisationPublic,
    RejectRequest,
    SigningCertificatePublic,
    SignInStart,
)
from shared.writeback.models import ParticipantStatus

log = logging.getLogger(__name__)
bp = func.Blueprint()
api = ApiRoutes(bp)


def _endpoint(endpoint: FhirEndpoint) -> func.HttpResponse:
    return json_response(FhirEndpointPublic.of(endpoint))


@api.route(
    "GET",
    "portal/organisation",
    summary="Read your organisation",
    tag="organisation",
    response=OrganisationPublic,
)
@api_errors
def get_organisation(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    organisation = runtime.setup.organisations.get(principal)
    return json_response(OrganisationPublic(**organisation.model_dump()))


@api.route(
    "POST",
    "portal/organisation",
    summary="Set up your organisation (once per Entra tenant)",
    tag="organisation",
    request=OrganisationCreate,
    response=OrganisationPublic,
    status=201,
    errors=(409,),
)
@api_errors
def create_organisation(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    organisation = runtime.setup.organisations.create(principal, parse_json(req, OrganisationCreate))
    return json_response(OrganisationPublic(**organisation.model_dump()), status=201)


@api.route("GET", "portal/endpoints", summary="List FHIR endpoints", tag="endpoints", response=EndpointList)
@api_errors
def list_endpoints(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    items = [FhirEndpointPublic.of(e) for e in runtime.setup.endpoints.list_endpoints(principal)]
    return json_response(EndpointList(items=items))


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
@api_errors
def create_endpoint(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    endpoint = runtime.setup.endpoints.create(principal, parse_json(req, FhirEndpointCreate))
    return json_response(FhirEndpointPublic.of(endpoint), status=201)


@api.route(
    "GET",
    "portal/endpoints/{endpoint_id}",
    summary="Read a FHIR endpoint",
    tag="endpoints",
    response=FhirEndpointPublic,
)
@api_errors
def get_endpoint(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    return _endpoint(runtime.setup.endpoints.get(principal, req.route_params["endpoint_id"]))


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
)
@api_errors
def update_endpoint(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    update = parse_json(req, FhirEndpointUpdate)
    return _endpoint(runtime.setup.endpoints.update(principal, req.route_params["endpoint_id"], update))


@api.route(
    "DELETE",
    "portal/endpoints/{endpoint_id}",
    summary="Remove a FHIR endpoint",
    tag="endpoints",
    status=204,
    response_kind="empty",
)
@api_errors
def delete_endpoint(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    runtime.setup.endpoints.delete(principal, req.route_params["endpoint_id"])
    return func.HttpResponse(status_code=204)


@api.route(
    "POST",
    "portal/endpoints/{endpoint_id}/submit",
    summary="Submit a draft endpoint for approval",
    tag="approval",
    response=FhirEndpointPublic,
    errors=(409,),
)
@api_errors
def submit_endpoint(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    return _endpoint(runtime.setup.endpoints.submit(principal, req.route_params["endpoint_id"]))


@api.route(
    "POST",
    "portal/endpoints/{endpoint_id}/sign-in",
    summary="Start the approver's EHR sign-in (SMART standalone launch)",
    description="Only the named approver. Open `authorize_url` in the browser; the EHR redirects back to "
    "/api/portal/approval/callback, which validates the sign-in and returns to the portal.",
    tag="approval",
    response=SignInStart,
    errors=(409, 502),
)
@api_errors
def start_sign_in(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    return json_response(runtime.setup.approval.start_sign_in(principal, req.route_params["endpoint_id"]))


@api.route(
    "GET",
    "portal/approval/callback",
    summary="Where the EHR returns the approver after sign-in",
    description="Followed by the browser, not called by the portal. Redirects to the portal on success; "
    "otherwise shows a page that says what went wrong and what to do.",
    tag="approval",
    auth="none",
    status=302,
    response_kind="redirect",
    query=(
        ("state", "The single-use state of the sign-in."),
        ("code", "The EHR's authorization code."),
        ("error", "The EHR's error code, when it refused."),
        ("error_description", "The EHR's explanation of the error."),
    ),
)
def approval_callback(req: func.HttpRequest) -> func.HttpResponse:
    runtime = get_runtime()
    try:
        result = runtime.setup.approval.complete_sign_in(
            state=req.params.get("state"),
            code=req.params.get("code"),
            error=req.params.get("error"),
            error_description=req.params.get("error_description"),
        )
    except DomainError as failure:
        return html_page("The EHR sign-in did not complete", failure.detail, status=400)
    except Exception:
        log.exception("approval_callback failed unexpectedly")
        return html_page(
            "The EHR sign-in did not complete",
            "Something went wrong on our side; start the EHR sign-in again from the portal.",
            status=500,
        )
    return redirect(f"{runtime.settings.portal_base}/#/endpoints/{quote(result.endpoint_id)}?signin=ok")


@api.route(
    "POST",
    "portal/endpoints/{endpoint_id}/approve",
    summary="Approve an endpoint (named approver, after the EHR sign-in)",
    tag="approval",
    response=FhirEndpointPublic,
    errors=(409,),
)
@api_errors
def approve_endpoint(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    return _endpoint(runtime.setup.approval.approve(principal, req.route_params["endpoint_id"]))


@api.route(
    "POST",
    "portal/endpoints/{endpoint_id}/reject",
    summary="Reject an endpoint with a comment (named approver)",
    tag="approval",
    request=RejectRequest,
    response=FhirEndpointPublic,
    errors=(409,),
)
@api_errors
def reject_endpoint(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    comment = parse_json(req, RejectRequest).comment
    return _endpoint(runtime.setup.approval.reject(principal, req.route_params["endpoint_id"], comment))


@api.route(
    "GET",
    "portal/endpoints/{endpoint_id}/integration-records",
    summary="The records an EHR analyst enters into the EHR (approved endpoints only)",
    tag="integration",
    response=IntegrationRecords,
    errors=(409,),
)
@api_errors
def integration_records(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    return json_response(runtime.setup.integration_records.records(principal, req.route_params["endpoint_id"]))


@api.route(
    "GET",
    "portal/audit",
    summary="The audit log, newest first (admins)",
    tag="audit",
    response=AuditPage,
    query=(("continuation", "The `continuation` of the previous page."),),
)
@api_errors
def audit_log(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    return json_response(runtime.setup.audit.page(principal, req.params.get("continuation")))


@api.route(
    "PUT",
    "portal/certificates/{environment}",
    summary="Upload the EHR's HL7 signing certificate for an environment (test or prod)",
    description="A public-key .cer (PEM, or Base64 of the DER). A private key, a malformed or expired "
    "certificate, or an RSA key under 2048 bits is refused and nothing is stored.",
    tag="sms",
    request=CertificateUpload,
    response=SigningCertificatePublic,
)
@api_errors
def upload_certificate(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    upload = parse_json(req, CertificateUpload)
    certificate = runtime.setup.certificates.upload(principal, req.route_params["environment"], upload.certificate)
    return json_response(SigningCertificatePublic(**certificate.model_dump()))


@api.route(
    "GET", "portal/certificates", summary="The uploaded signing certificates", tag="sms", response=CertificateList
)
@api_errors
def list_certificates(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    items = [
        SigningCertificatePublic(**c.model_dump()) for c in runtime.setup.certificates.list_certificates(principal)
    ]
    return json_response(CertificateList(items=items))


@api.route("GET", "portal/sms/consents", summary="The two SMS consents", tag="sms", response=ConsentList)
@api_errors
def get_consents(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    return json_response(runtime.messaging.sms_setup.consents(principal))


@api.route(
    "POST",
    "portal/sms/consents/{name}",
    summary="Give an SMS consent (sms_terms, patient_messaging)",
    tag="sms",
    response=ConsentList,
)
@api_errors
def give_consent(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    name = req.route_params["name"]
    if name not in CONSENT_TEXT:
        raise InvalidInput(f"There is no consent {name!r}.", {"name": f"one of {', '.join(CONSENT_TEXT)}"})
    return json_response(runtime.messaging.sms_setup.give_consent(principal, name))


@api.route(
    "GET",
    "portal/endpoints/{endpoint_id}/sms-settings",
    summary="The endpoint's SMS settings",
    tag="sms",
    response=SmsSettingsPublic,
)
@api_errors
def get_sms_settings(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    settings = runtime.messaging.sms_setup.settings(principal, req.route_params["endpoint_id"])
    if settings is None:
        raise NotFound("This endpoint has no SMS settings yet; no texts are sent for it.")
    return json_response(SmsSettingsPublic(**settings.model_dump(exclude={"tenant_id", "updated_by"})))


@api.route(
    "PUT",
    "portal/endpoints/{endpoint_id}/sms-settings",
    summary="Set the endpoint's SMS settings (after both consents)",
    tag="sms",
    request=SmsSettingsUpdate,
    response=SmsSettingsPublic,
    errors=(409,),
)
@api_errors
def put_sms_settings(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    update = parse_json(req, SmsSettingsUpdate)
    settings = runtime.messaging.sms_setup.update_settings(principal, req.route_params["endpoint_id"], update)
    return json_response(SmsSettingsPublic(**settings.model_dump(exclude={"tenant_id", "updated_by"})))


@api.route(
    "GET",
    "portal/sms/outbox",
    summary="Texts kept by the outbox provider (SMS_PROVIDER=outbox, local runs), newest first",
    tag="sms",
    response=OutboxList,
)
@api_errors
def sms_outbox(req: func.HttpRequest) -> func.HttpResponse:
    from shared.messaging.providers.outbox import OutboxSmsSender

    runtime, principal = portal_caller(req)
    principal.require(Role.ADMIN)
    sender = runtime.messaging.sender
    if not isinstance(sender, OutboxSmsSender):
        raise NotFound("Texts are sent through Azure Communication Services here; there is no outbox.")
    items = [OutboxMessagePublic(**m.model_dump(exclude={"tenant_id"})) for m in sender.list_for(principal.tenant_id)]
    return json_response(OutboxList(items=items))


@api.route(
    "GET",
    "portal/phone-numbers",
    summary="The organisation's SMS phone numbers, and jobs acquiring or releasing them",
    tag="sms",
    response=PhoneNumberList,
)
@api_errors
def list_phone_numbers(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    return json_response(runtime.messaging.phone_numbers.list_numbers(principal))


def _job_accepted(job: PhoneNumberJob) -> func.HttpResponse:
    location = f"/api/portal/phone-number-jobs/{quote(job.id)}"
    return json_response(PhoneNumberJobPublic.of(job), status=202, headers={"Location": location, "Retry-After": "5"})


@api.route(
    "POST",
    "portal/phone-numbers",
    summary="Acquire a phone number (after both SMS consents)",
    description="Searching and buying take up to a few minutes. The answer is 202 with the job; poll its "
    "`Location` until `done`. The job goes on after a restart of the host.",
    tag="sms",
    request=PhoneNumberOrder,
    response=PhoneNumberJobPublic,
    status=202,
    errors=(409,),
)
@api_errors
def order_phone_number(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    return _job_accepted(runtime.messaging.phone_numbers.order(principal, parse_json(req, PhoneNumberOrder)))


@api.route(
    "GET",
    "portal/phone-number-jobs/{job_id}",
    summary="A job acquiring or releasing a phone number",
    tag="sms",
    response=PhoneNumberJobPublic,
)
@api_errors
def get_phone_number_job(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    return json_response(
        PhoneNumberJobPublic.of(runtime.messaging.phone_numbers.job(principal, req.route_params["job_id"]))
    )


@api.route(
    "DELETE",
    "portal/phone-numbers/{number}",
    summary="Release a phone number (unlink it from every endpoint first)",
    description="The answer is 202 with the job; poll its `Location` until `done`.",
    tag="sms",
    response=PhoneNumberJobPublic,
    status=202,
    errors=(409,),
)
@api_errors
def release_phone_number(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    return _job_accepted(runtime.messaging.phone_numbers.release(principal, req.route_params["number"]))


@api.route(
    "PUT",
    "portal/phone-numbers/{number}/endpoints",
    summary="Choose the FHIR endpoints that send texts from this number",
    description="Endpoints listed send from this number (one number may serve many endpoints); endpoints "
    "that used it and are not listed stop sending texts until another number is linked.",
    tag="sms",
    request=PhoneNumberLinks,
    response=PhoneNumberPublic,
    errors=(409,),
)
@api_errors
def link_phone_number(req: func.HttpRequest) -> func.HttpResponse:
    runtime, principal = portal_caller(req)
    links = parse_json(req, PhoneNumberLinks)
    return json_response(
        runtime.messaging.phone_numbers.link(principal, req.route_params["number"], links.endpoint_ids)
    )


@api.route(
    "GET",
    "visits/{appointment_key}/participants",
    summary="Who is connected to a visit now, by role and since when, and who waits in the lobby",
    description="From the meeting's call events; no names. For your organisation's admins (bearer token), or "
    "for the clinician whose EHR launch opened the visit (the visit_session cookie that launch set).",
    tag="visits",
    response=ParticipantStatus,
)
@api_errors
def visit_participants(req: func.HttpRequest) -> func.HttpResponse:
    from http.cookies import CookieError, SimpleCookie

    from shared.visits.sessions import COOKIE

    runtime = get_runtime()
    key = req.route_params["appointment_key"]
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(req.headers.get("cookie") or "")
    except CookieError:
        pass
    if not req.headers.get("authorization") and COOKIE in cookies:
        session = runtime.visits.sessions.verify(cookies[COOKIE].value)
        return json_response(runtime.writeback.participant_events.status_for_session(session, key))
    principal = runtime.platform.portal_auth.authenticate(req.headers)
    return json_response(runtime.writeback.participant_events.status(principal, key))


def all_routes() -> list[ApiRoute]:
    """Every route of the portal API, including the writeback and reports blueprints."""
    from functions import reports, sign_in, writeback

    return sign_in.api.routes + api.routes + writeback.api.routes + reports.api.routes


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    settings = get_runtime().settings
    document = build_document(
        all_routes(),
        title="EHR virtual visits connector: portal API",
        version=__version__,
        server=settings.public_base,
    )
    return json_response(document)
