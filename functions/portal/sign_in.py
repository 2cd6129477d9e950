"""How the portal signs in (read before anyone is signed in) and who the signed-in caller is."""

from __future__ import annotations

from functions.portal.registry import Call, api
from shared.auth.models import Caller, SignInConfig
from shared.auth.sign_in import caller, sign_in_config


@api.route(
    "GET",
    "portal/sign-in",
    summary="How the portal signs people in: Entra ID (MSAL) settings, or the local issuer in local runs",
    tag="sign-in",
    auth="none",
    response=SignInConfig,
)
def get_sign_in_config(call: Call[None]) -> SignInConfig:
    return sign_in_config(call.runtime.settings.sign_in)


@api.route("GET", "portal/me", summary="Who you are signed in as, and your roles", tag="sign-in", response=Caller)
def get_caller(call: Call[None]) -> Caller:
    return caller(call.principal)
