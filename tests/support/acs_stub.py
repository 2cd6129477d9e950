"""A loopback stand-in for the ACS SMS and phone-number APIs that checks what ACS checks: the HMAC-SHA256
signature over method, path and query, date, host and content hash; the content hash itself; the api-version;
and the required body fields. A 429 can be scripted for the next text.

Phone numbers follow the service's long-running operations: search and purchase answer 202 with
`Operation-Location` (and, for a search, `Location` of its result); the operation reports `running` for
`polls_per_operation` checks, then `succeeded` (or `failed` with an error, when scripted)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web


@dataclass
class AcsStub:
    key: str  # Base64, as ACS access keys are
    url: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)
    throttle_next: int = 0
    refused: list[str] = field(default_factory=list)
    # phone numbers
    available: list[str] = field(default_factory=lambda: ["+18335550142", "+18335550143"])
    purchased: set[str] = field(default_factory=set)
    polls_per_operation: int = 1
    fail_next_operation: str | None = None  # an error code, e.g. "OutOfStock"
    calls: list[str] = field(default_factory=list)
    _operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    _searches: dict[str, dict[str, Any]] = field(default_factory=dict)

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._checks])
        app.router.add_post("/sms", self._send)
        app.router.add_post("/availablePhoneNumbers/countries/{country}/:search", self._search)
        app.router.add_get("/availablePhoneNumbers/searchResults/{search_id}", self._search_result)
        app.router.add_post("/availablePhoneNumbers/:purchase", self._purchase)
        app.router.add_get("/phoneNumbers/operations/{operation_id}", self._operation)
        app.router.add_get("/phoneNumbers/{number}", self._number)
        app.router.add_delete("/phoneNumbers/{number}", self._release)
        return app

    @web.middleware
    async def _checks(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        problem = self._verify(request, body)
        if problem:
            self.refused.append(problem)
            return web.json_response({"error": {"code": "Denied", "message": f"bad {problem}"}}, status=401)
        if "api-version" not in request.query:
            return web.json_response({"error": {"code": "MissingApiVersion"}}, status=400)
        response: web.StreamResponse = await handler(request)
        return response

    def _accepted(self, kind: str, extra: dict[str, str], result: Any = None) -> web.Response:
        operation_id = f"{kind}_{uuid.uuid4().hex}"
        self._operations[operation_id] = {
            "kind": kind,
            "checks": 0,
            "created": datetime.now(UTC).isoformat(),
            "result": result,
            "error": self.fail_next_operation,
        }
        self.fail_next_operation = None
        headers = {
            "Operation-Location": f"{self.url}/phoneNumbers/operations/{operation_id}?api-version=2025-06-01",
            "operation-id": operation_id,
            **extra,
        }
        return web.Response(status=202, headers=headers)

    async def _search(self, request: web.Request) -> web.Response:
        payload = await request.json()
        capabilities = payload.get("capabilities") or {}
        if (
            payload.get("phoneNumberType") not in ("tollFree", "geographic", "mobile")
            or payload.get("assignmentType") not in ("application", "person")
            or capabilities.get("sms") not in ("none", "inbound", "outbound", "inbound+outbound")
            or capabilities.get("calling") not in ("none", "inbound", "outbound", "inbound+outbound")
        ):
            return web.json_response({"error": {"code": "BadRequest", "message": "invalid search"}}, status=400)
        self.calls.append("search")
        search_id = uuid.uuid4().hex
        numbers = [n for n in self.available if n not in self.purchased][: int(payload.get("quantity") or 1)]
        self._searches[search_id] = {"numbers": numbers, "type": payload["phoneNumberType"], "purchased": False}
        location = f"{self.url}/availablePhoneNumbers/searchResults/{search_id}?api-version=2025-06-01"
        return self._accepted("search", {"Location": location, "search-id": search_id})

    async def _search_result(self, request: web.Request) -> web.Response:
        search = self._searches.get(request.match_info["search_id"])
        if search is None:
            return web.json_response({"error": {"code": "NotFound", "message": "no such search"}}, status=404)
        return web.json_response(
            {
                "searchId": request.match_info["search_id"],
                "phoneNumbers": search["numbers"],
                "phoneNumberType": search["type"],
                "assignmentType": "application",
                "capabilities": {"calling": "none", "sms": "inbound+outbound"},
                "cost": {"amount": 2.0, "currencyCode": "USD", "billingFrequency": "monthly"},
                "searchExpiresBy": (datetime.now(UTC) + timedelta(minutes=15)).isoformat(),
            }
        )

    async def _purchase(self, request: web.Request) -> web.Response:
        payload = await request.json()
        search = self._searches.get(str(payload.get("searchId")))
        self.calls.append("purchase")
        if search is None or search["purchased"]:
            return web.json_response({"error": {"code": "BadRequest", "message": "not purchasable"}}, status=400)
        search["purchased"] = True
        return self._accepted("purchase", {"purchase-id": uuid.uuid4().hex}, result=list(search["numbers"]))

    async def _operation(self, request: web.Request) -> web.Response:
        operation_id = request.match_info["operation_id"]
        operation = self._operations.get(operation_id)
        if operation is None:
            return web.json_response({"error": {"code": "NotFound", "message": "no such operation"}}, status=404)
        self.calls.append(f"check {operation['kind']}")
        operation["checks"] += 1
        body: dict[str, Any] = {
            "id": operation_id,
            "operationType": operation["kind"],
            "createdDateTime": operation["created"],
            "status": "running",
        }
        if operation["checks"] > self.polls_per_operation:
            if operation["error"]:
                body["status"] = "failed"
                body["error"] = {"code": operation["error"], "message": "No numbers are available."}
            else:
                body["status"] = "succeeded"
                if operation["kind"] == "purchase":
                    self.purchased.update(operation["result"])
                elif operation["kind"] == "releasePhoneNumber":
                    self.purchased.discard(operation["result"])
        return web.json_response(body)

    async def _number(self, request: web.Request) -> web.Response:
        number = request.match_info["number"]
        if number not in self.purchased:
            return web.json_response({"error": {"code": "NotFound", "message": "not purchased"}}, status=404)
        return web.json_response(
            {
                "id": number,
                "phoneNumber": number,
                "countryCode": "US",
                "phoneNumberType": "tollFree",
                "capabilities": {"calling": "none", "sms": "inbound+outbound"},
                "assignmentType": "application",
                "purchaseDate": datetime.now(UTC).isoformat(),
                "cost": {"amount": 2.0, "currencyCode": "USD", "billingFrequency": "monthly"},
            }
        )

    async def _release(self, request: web.Request) -> web.Response:
        number = request.match_info["number"]
        self.calls.append("release")
        if number not in self.purchased:
            return web.json_response({"error": {"code": "NotFound", "message": "not purchased"}}, status=404)
        return self._accepted("releasePhoneNumber", {}, result=number)

    def _verify(self, request: web.Request, body: bytes) -> str | None:
        date = request.headers.get("x-ms-date", "")
        content_hash = request.headers.get("x-ms-content-sha256", "")
        if base64.b64encode(hashlib.sha256(body).digest()).decode() != content_hash:
            return "content hash"
        authorization = request.headers.get("Authorization", "")
        prefix = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
        if not authorization.startswith(prefix):
            return "authorization scheme"
        to_sign = f"{request.method}\n{request.raw_path}\n{date};{request.host};{content_hash}"
        expected = base64.b64encode(
            hmac.new(base64.b64decode(self.key), to_sign.encode(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected, authorization[len(prefix) :]):
            return "signature"
        return None

    async def _send(self, request: web.Request) -> web.Response:
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
