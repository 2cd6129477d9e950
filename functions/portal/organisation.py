"""The caller's organisation: read it, or set it up once per Entra tenant."""

from __future__ import annotations

from functions.portal.registry import Call, api
from shared.setup.models import Organisation, OrganisationCreate, OrganisationPublic


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
