"""The caller's organisation: read it, set it up once per Entra tenant, and change its settings."""

from __future__ import annotations

from functions.portal.registry import Call, api
from shared.setup.models import Organisation, OrganisationCreate, OrganisationPublic, OrganisationUpdate


@api.route(
    "GET",
    "portal/organisation",
    summary="Read your organisation",
    tag="organisation",
    response=OrganisationPublic,
)
def get_organisation(call: Call[None]) -> Organisation:
    return call.runtime.setup.organisations.get(call.principal)


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
def create_organisation(call: Call[OrganisationCreate]) -> Organisation:
    return call.runtime.setup.organisations.create(call.principal, call.body)


@api.route(
    "PATCH",
    "portal/organisation",
    summary="Change your organisation's settings (admins and approvers)",
    description="Display name, time zone, SMS country (one of the deployment's SMS_COUNTRIES) and the patients' "
    "default locale (en_US or es_US). The geography can change only while no FHIR endpoint exists (409 after: "
    "data is stored in it). Audited.",
    tag="organisation",
    request=OrganisationUpdate,
    response=OrganisationPublic,
    errors=(409,),
)
def update_organisation(call: Call[OrganisationUpdate]) -> Organisation:
    return call.runtime.setup.organisations.update(call.principal, call.body)
