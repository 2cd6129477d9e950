"""How the portal signs in (read before anyone is signed in) and who the signed-in caller is."""

from __future__ import annotations

import azure.functions as func

from functions._http import api_errors, json_response, portal_caller
from functions._openapi import ApiRoutes
from shared.auth.models import Caller, SignInConfig
from shared.auth.sign_in import caller, sign_in_config
from shared.runtime import get_runtime

bp = func.Blueprint()
api = ApiRoutes(bp)


@api.route(
    "GET",
    "portal/sign-in",
    summary="How the portal signs people in: Entra ID (MSAL) settings, or the local issuer in local runs",
    tag="sign-in",
    auth="none",
    response=SignInConfig,
)
@api_errors
def get_sign_in_config(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(sign_in_config(get_runtime().settings.sign_in))


@api.route("GET", "portal/me", summary="Who you are signed in as, and your roles", tag="sign-in", response=Caller)
@api_errors
def get_caller(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(caller(portal_caller(req)[1]))
