"""A loopback stand-in for the ACS SMS and phone-number APIs that checks what ACS checks: the HMAC-SHA256
signature over method, path and query, date, host and content hash; the content hash itself; the api-version;
and the required body fields.

Sending keeps to what ACS documents: a repeated `repeatabilityRequestId` (a UUID, with `repeatabilityFirstSent`
as an IMF-fixdate) gets the first request's result and sends nothing; a sender number over `per_number_limit`
texts in any 60 seconds gets 429 with `Retry-After`; `error_rate` answers that share of requests 500 at random
(seeded); `throttle_next` scripts 429s.

Phone numbers follow the service's long-running operations: search and purchase answer 202 with
`Operation-Location` (and, for a search, `Location` of its result); the operation reports `running` for
`polls_per_operation` checks, then `succeeded` (or `failed` with an error, when scripted)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import random
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from aiohttp import web

from shared.core.usage import usage
from shared.messaging.segments import segments


@dataclass
class AcsStub:
    key: str  # Base64, as ACS access keys are
    url: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)
    throttle_next: int = 0
    retry_after: int = 0  # seconds, on scripted 429s
    per_number_limit: int | None = None  # texts per sender number in any 60 seconds
    error_rate: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    clock: Callable[[], float] = time.monotonic  # for the per-number window
    throttled: int = 0
    errors: int = 0
    repeated: int = 0
    _repeats: dict[str, dict[str, Any]] = field(default_factory=dict)
    _windows: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
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
            self.throttled += 1
            headers = {"Retry-After": str(self.retry_after)}
            return web.json_response({"error": {"code": "TooManyRequests"}}, status=429, headers=headers)
        payload = await request.json()
        recipients = payload.get("smsRecipients") or []
        if not payload.get("from") or not payload.get("message") or not 1 <= len(recipients) <= 100:
            return web.json_response({"error": {"code": "BadRequest"}}, status=400)
        for recipient in recipients:
            if not recipient.get("to") or not _repeatable(recipient):
                return web.json_response({"error": {"code": "BadRequest", "message": "repeatability"}}, status=400)
        if self.error_rate and self.rng.random() < self.error_rate:
            self.errors += 1
            return web.json_response({"error": {"code": "InternalServerError"}}, status=500)
        fresh = [r for r in recipients if r["repeatabilityRequestId"] not in self._repeats]
        wait = self._over_limit(payload["from"], len(fresh))
        if wait:
            self.throttled += 1
            return web.json_response({"error": {"code": "TooManyRequests"}}, status=429, headers={"Retry-After": wait})
        results = []
        for recipient in recipients:
            earlier = self._repeats.get(recipient["repeatabilityRequestId"])
            if earlier is not None:
                self.repeated += 1
                results.append({**earlier, "repeatabilityResult": "accepted"})
                continue
            message_id = f"Outgoing_{uuid.uuid4().hex}_noam"
            self.sent.append({**payload, "to": recipient["to"], "messageId": message_id, "at": self.clock()})
            usage.record("sms", "segments", amount=segments(payload["message"]).count)  # what ACS bills, when counted
            result = {"to": recipient["to"], "messageId": message_id, "httpStatusCode": 202, "successful": True}
            self._repeats[recipient["repeatabilityRequestId"]] = result
            results.append({**result, "repeatabilityResult": "accepted"})
        return web.json_response({"value": results}, status=202)

    def _over_limit(self, sender: str, count: int) -> str | None:
        """Seconds to wait (as Retry-After) if `count` more texts would exceed the number's limit, else None."""
        if self.per_number_limit is None or count == 0:
            return None
        window, now = self._windows[sender], self.clock()
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) + count > self.per_number_limit:
            return str(max(1, math.ceil(window[0] + 60 - now)))
        window.extend([now] * count)
        return None

    def busiest_minute(self, sender: str) -> int:
        """The most texts this number sent in any 60 seconds."""
        times = sorted(t["at"] for t in self.sent if t["from"] == sender)
        most, start = 0, 0
        for end, moment in enumerate(times):
            while times[start] <= moment - 60:
                start += 1
            most = max(most, end - start + 1)
        return most


def _repeatable(recipient: dict[str, Any]) -> bool:
    """ACS: a 36-character UUID, and the IMF-fixdate of the first try beside it."""
    try:
        uuid.UUID(recipient.get("repeatabilityRequestId") or "")
        parsedate_to_datetime(recipient.get("repeatabilityFirstSent") or "")
    except (ValueError, TypeError):
        return False
    return len(recipient["repeatabilityRequestId"]) == 36 and recipient["repeatabilityFirstSent"].endswith(" GMT")
