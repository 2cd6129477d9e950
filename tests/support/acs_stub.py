"""A loopback stand-in for the ACS SMS API that checks what ACS checks: the HMAC-SHA256 signature over method,
path and query, date, host and content hash; the content hash itself; and the required body fields. A 429 can be
scripted for the next request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class AcsStub:
    key: str  # Base64, as ACS access keys are
    url: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)
    throttle_next: int = 0
    refused: list[str] = field(default_factory=list)

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/sms", self._send)
        return app

    def _verify(self, request: web.Request, body: bytes) -> str | None:
        date = request.headers.get("x-ms-date", "")
        content_hash = request.headers.get("x-ms-content-sha256", "")
        if base64.b64encode(hashlib.sha256(body).digest()).decode() != content_hash:
            return "content hash"
        authorization = request.headers.get("Authorization", "")
        prefix = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
        if not authorization.startswith(prefix):
            return "authorization scheme"
        to_sign = f"POST\n{request.path_qs}\n{date};{request.host};{content_hash}"
        expected = base64.b64encode(
            hmac.new(base64.b64decode(self.key), to_sign.encode(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected, authorization[len(prefix) :]):
            return "signature"
        return None

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.read()
        problem = self._verify(request, body)
        if problem:
            self.refused.append(problem)
            return web.json_response({"error": {"code": "Denied", "message": f"bad {problem}"}}, status=401)
        if "api-version" not in request.query:
            return web.json_response({"error": {"code": "MissingApiVersion"}}, status=400)
        if self.throttle_next:
            self.throttle_next -= 1
            return web.json_response({"error": {"code": "TooManyRequests"}}, status=429, headers={"Retry-After": "0"})
        payload = await request.json()
        recipients = payload.get("smsRecipients") or []
        if not payload.get("from") or not payload.get("message") or not 1 <= len(recipients) <= 100:
            return web.json_response({"error": {"code": "BadRequest"}}, status=400)
        results = []
        for recipient in recipients:
            if not recipient.get("to") or not recipient.get("repeatabilityRequestId"):
                return web.json_response({"error": {"code": "BadRequest"}}, status=400)
            message_id = f"Outgoing_{uuid.uuid4().hex}_noam"
            self.sent.append({**payload, "to": recipient["to"], "messageId": message_id})
            results.append({"to": recipient["to"], "messageId": message_id, "httpStatusCode": 202, "successful": True})
        return web.json_response({"value": results}, status=202)
