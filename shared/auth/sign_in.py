"""What the portal SPA needs to sign people in: read from settings, so one build of `web/` serves every
deployment."""

from __future__ import annotations

import re

from shared.auth.models import Caller, SignInConfig
from shared.auth.principal import Principal
from shared.core.settings import SignInSettings

_API_URI = re.compile(r"^api://([0-9a-fA-F-]{36})$")


def sign_in_config(settings: SignInSettings) -> SignInConfig:
    if settings.environment == "local" and settings.local_issuer_url:
        return SignInConfig(
            method="local",
            environment=settings.environment,
            local_issuer=settings.local_issuer_url.rstrip("/"),
            authority=None,
            client_id=None,
            scopes=[],
        )
    audience = settings.portal_api_audience
    api_uri = audience if "://" in audience else f"api://{audience}"
    match = _API_URI.match(api_uri)
    client_id = settings.portal_client_id or (match.group(1) if match else None)
    tenants = sorted(settings.allowed_tenants)
    # One allowed tenant signs in there; otherwise any work account, and the API checks the tenant.
    authority = f"{settings.entra_authority.rstrip('/')}/{tenants[0] if len(tenants) == 1 else 'organizations'}"
    return SignInConfig(
        method="entra",
        environment=settings.environment,
        local_issuer=None,
        authority=authority,
        client_id=client_id,
        scopes=[f"{api_uri}/.default"],
    )


def caller(principal: Principal) -> Caller:
    return Caller(
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        username=principal.username,
        roles=sorted(role.value for role in principal.roles),
    )
