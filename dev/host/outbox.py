"""`GET /dev/outbox` (the dev host only, never the function app): the signed-in admin's organisation's texts as the
outbox provider sent them, links whole, newest first. The portal's outbox shows what is kept, links without their
tokens; this is how `make demo` follows a text's link as the patient would."""

from __future__ import annotations

import asyncio

from aiohttp import web

from shared.auth.principal import Principal, Role
from shared.core.errors import DomainError, Forbidden, NotFound, Unauthenticated

STATUS = {Unauthenticated: 401, Forbidden: 403, NotFound: 404}


def _problem(status: int, failure: DomainError) -> web.Response:
    body = {"type": "about:blank", "title": failure.title, "status": status, "detail": failure.detail}
    return web.json_response(body, status=status, content_type="application/problem+json")


async def _outbox(request: web.Request) -> web.Response:
    from shared.messaging.providers.outbox import OutboxSmsSender
    from shared.runtime import get_runtime

    runtime = get_runtime()

    def admin() -> Principal:
        return runtime.platform.portal_auth.authenticate(request.headers).require(Role.ADMIN)

    try:
        principal = await asyncio.to_thread(admin)
        sender = runtime.messaging.sender
        if not isinstance(sender, OutboxSmsSender):
            raise NotFound("Texts are sent through Azure Communication Services here; there is no outbox.")
    except DomainError as failure:
        return _problem(next((s for kind, s in STATUS.items() if isinstance(failure, kind)), 400), failure)
    items = [m.model_dump(mode="json", exclude={"tenant_id"}) for m in sender.recent(principal.tenant_id)]
    return web.json_response({"items": items}, headers={"Cache-Control": "no-store"})


def routes() -> list[web.RouteDef]:
    return [web.get("/dev/outbox", _outbox)]
