"""Meeting participants and EHR writeback. `GET /api/.well-known/jwks.json` publishes the public keys of the
connector's writeback client assertions (SMART backend services), the URL registered with each EHR."""

from __future__ import annotations

import azure.functions as func

from functions._http import api_errors, json_response
from shared.runtime import get_runtime

bp = func.Blueprint()


@bp.route(route=".well-known/jwks.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@api_errors
def jwks(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(get_runtime().signing_keys.jwks(), headers={"Cache-Control": "public, max-age=3600"})
