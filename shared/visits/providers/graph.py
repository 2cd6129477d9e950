"""Microsoft Teams meetings through Microsoft Graph (msgraph-sdk, imported only here).

- `POST /users/{organizer}/onlineMeetings/createOrGet` with `externalId` = the appointment key (Graph's
  idempotency key per organizer), then `PATCH` the meeting's `lobbyBypassSettings.scope` to `organization`, so
  that clinicians go straight in and patients and guests wait in the lobby.
- 429 and 5xx (and network failures) are retried, honouring `Retry-After`; our own loop, with an injected
  sleep, replaces the SDK's retry handler so that retries are counted once and testable without waiting.
- Call events come from a change-notification subscription on the meeting's `meetingCallEvents` (a beta
  resource that msgraph-sdk, which is v1.0, does not model): plain JSON over the same credential. Graph
  validates the notification URL while creating the subscription.
- A meeting's Virtual Appointment join URL (`GET .../getVirtualAppointmentJoinWebUrl`, v1.0) is served only to a
  delegated token of its organizer: plain JSON with the token the caller brings.
- msgraph-sdk is asynchronous; the provider runs it on one event loop thread of its own, shared by all
  callers of the worker, so its HTTP connections stay on the loop that opened them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from shared.core import telemetry
from shared.core.errors import NotFound, UpstreamError
from shared.core.outbound import DestinationRefused, Outbound
from shared.core.retry import MAX_RETRY_AFTER, retry_delay
from shared.visits.providers import EventSubscription, Meeting, MeetingRequest, MeetingUnavailable, OrganizerRefused
from shared.visits.providers.graph_wire import (
    Transient,
    browser_join_url,
    iso,
    meeting_events_resource,
    retry_after,
    sdk_errors,
)

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from msgraph.generated.users.item.online_meetings.online_meetings_request_builder import (
        OnlineMeetingsRequestBuilder,
    )
    from msgraph.graph_service_client import GraphServiceClient


log = logging.getLogger(__name__)


T = TypeVar("T")


GRAPH_SCOPE = "https://graph.microsoft.com/.default"


class GraphMeetingProvider:
    def __init__(
        self,
        credential: TokenCredential,
        *,
        base_url: str = "https://graph.microsoft.com/v1.0",
        attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        outbound: Outbound | None = None,
    ) -> None:
        self._credential = credential
        self._base_url = base_url.rstrip("/")
        self._attempts = attempts
        self._sleep = sleep
        self._timeout = timeout
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: GraphServiceClient | None = None
        self._beta = self._base_url.removesuffix("/v1.0") + "/beta"
        self._outbound = outbound or Outbound(timeout)

    @property
    def base_url(self) -> str:
        return self._base_url

    def _run(self, make: Callable[[GraphServiceClient], Awaitable[T]]) -> T:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="graph", daemon=True).start()
                self._client = asyncio.run_coroutine_threadsafe(self._build(), self._loop).result(self._timeout)
        loop, client = self._loop, self._client
        assert client is not None
        carried = telemetry.carried()  # the caller's trace goes on on Graph's event loop

        async def call() -> T:
            with carried():
                return await make(client)

        return asyncio.run_coroutine_threadsafe(call(), loop).result(self._timeout)

    async def _build(self) -> GraphServiceClient:
        from kiota_authentication_azure.azure_identity_authentication_provider import (
            AzureIdentityAuthenticationProvider,
        )
        from kiota_http.middleware.options import RetryHandlerOption
        from msgraph.graph_request_adapter import GraphRequestAdapter
        from msgraph.graph_service_client import GraphServiceClient
        from msgraph_core import GraphClientFactory

        http = GraphClientFactory.create_with_default_middleware(
            options={RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=0)}
        )
        auth = AzureIdentityAuthenticationProvider(self._credential, scopes=[GRAPH_SCOPE])
        adapter = GraphRequestAdapter(auth, client=http)
        adapter.base_url = self._base_url
        return GraphServiceClient(request_adapter=adapter)

    def _retrying(self, what: str, attempt: Callable[[int], T], gave_up: str) -> T:
        """Run `attempt` until it returns; it raises `Transient` for what is worth another try (429, 5xx,
        network), anything else for what is not."""
        for number in range(1, self._attempts + 1):
            try:
                return attempt(number)
            except Transient as transient:
                if number == self._attempts:
                    break
                log.warning(
                    "Graph %s: %s, retrying in %.1f s (attempt %d)", what, transient.reason, transient.delay, number
                )
                self._sleep(transient.delay)
        raise MeetingUnavailable(gave_up)

    def _with_retries(
        self, what: str, make: Callable[[GraphServiceClient], Awaitable[T]], *, per_organizer: bool = False
    ) -> T:
        """`per_organizer`: a 403 or 404 means the organizer may not have meetings made for them (OrganizerRefused)."""
        import httpx
        from kiota_abstractions.api_error import APIError

        def attempt(number: int) -> T:
            try:
                return self._run(make)
            except APIError as error:
                status = int(error.response_status_code or 0)
                if status != 429 and status < 500:
                    log.error("Graph %s failed with HTTP %s", what, status)
                    refusal = OrganizerRefused if per_organizer and status in (403, 404) else MeetingUnavailable
                    raise refusal(
                        f"Microsoft Teams refused to {what} (HTTP {status}); ask your administrator to check the "
                        "connector's Graph permissions and application access policy."
                    ) from None
                raise Transient(retry_after(error.response_headers, number), f"HTTP {status}") from None
            except (httpx.HTTPError, TimeoutError) as error:
                raise Transient(
                    retry_delay(number, None, first=2.0, cap=MAX_RETRY_AFTER), type(error).__name__
                ) from None

        return self._retrying(
            what, attempt, f"Microsoft Teams did not answer in time to {what}; wait a minute and start the visit again."
        )

    def create_or_get(self, request: MeetingRequest) -> Meeting:
        from msgraph.generated.models.lobby_bypass_scope import LobbyBypassScope
        from msgraph.generated.models.lobby_bypass_settings import LobbyBypassSettings
        from msgraph.generated.models.online_meeting import OnlineMeeting
        from msgraph.generated.users.item.online_meetings.create_or_get.create_or_get_post_request_body import (
            CreateOrGetPostRequestBody,
        )

        body = CreateOrGetPostRequestBody(
            external_id=request.external_id,
            subject=request.subject,
            start_date_time=request.start.astimezone(UTC),
            end_date_time=request.end.astimezone(UTC),
        )

        def meetings(client: GraphServiceClient) -> OnlineMeetingsRequestBuilder:
            return client.users.by_user_id(request.organizer_id).online_meetings

        # The SDK builds and sends the requests (auth, middleware, errors as ODataError); the answer is read as
        # JSON for the two fields we keep. Parsed into its OnlineMeeting model, it cost a third of the worker's
        # time under load (kiota deserialises every nested model of the meeting, and of the PATCH's echo).
        async def create(client: GraphServiceClient) -> bytes | None:
            builder = meetings(client).create_or_get
            information = builder.to_post_request_information(body)
            raw: bytes | None = await builder.request_adapter.send_primitive_async(information, "bytes", sdk_errors())
            return raw

        raw = self._with_retries("create the meeting", create, per_organizer=True)
        created = json.loads(raw) if raw else {}
        meeting_id, join_url = created.get("id"), created.get("joinWebUrl")
        if not isinstance(meeting_id, str) or not isinstance(join_url, str) or not meeting_id or not join_url:
            raise MeetingUnavailable("Microsoft Teams answered without a meeting; start the visit again.")
        lobby = OnlineMeeting(
            lobby_bypass_settings=LobbyBypassSettings(
                scope=LobbyBypassScope.Organization, is_dial_in_bypass_enabled=False
            )
        )

        async def set_lobby(client: GraphServiceClient) -> None:
            builder = meetings(client).by_online_meeting_id(meeting_id)
            information = builder.to_patch_request_information(lobby)
            await builder.request_adapter.send_no_response_content_async(information, sdk_errors())

        self._with_retries("set the meeting lobby", set_lobby)
        return Meeting(
            meeting_id=meeting_id,
            organizer_id=request.organizer_id,
            join_url=join_url,
            browser_join_url=browser_join_url(join_url),
            dial_in=Meeting.dial_in_of(created),
        )

    def subscribe(
        self, meeting: Meeting, notification_url: str, client_state: str, expires_at: datetime, *, tenant_id: str
    ) -> EventSubscription:
        body = {
            "changeType": "updated",
            "notificationUrl": notification_url,
            "resource": meeting_events_resource(meeting.join_url),
            "expirationDateTime": iso(expires_at),
            "clientState": client_state,
        }
        answer = self.json_call("POST", "/subscriptions", body, "subscribe to the meeting's events")
        return EventSubscription(str(answer["id"]), datetime.fromisoformat(answer["expirationDateTime"]))

    def renew(
        self,
        subscription_id: str,
        expires_at: datetime,
        *,
        notification_url: str | None = None,
        base: str | None = None,
    ) -> datetime:
        """`base`: the Graph version the subscription was made on (default: beta, as the call events');
        `notification_url`: a new one to deliver to (Graph validates it first, as on creation)."""
        body = {"expirationDateTime": iso(expires_at)}
        if notification_url is not None:
            body["notificationUrl"] = notification_url
        answer = self.json_call(
            "PATCH", f"/subscriptions/{subscription_id}", body, "renew the meeting's event subscription", base=base
        )
        return datetime.fromisoformat(answer["expirationDateTime"])

    def virtual_appointment_url(self, organizer_id: str, meeting_id: str, access_token: str) -> str:
        path = f"/users/{quote(organizer_id, safe='')}/onlineMeetings/{quote(meeting_id, safe='')}"
        answer = self.json_call(
            "GET",
            path + "/getVirtualAppointmentJoinWebUrl",
            None,
            "read the meeting's Virtual Appointment join URL",
            base=self._base_url,
            token=access_token,
        )
        value = answer.get("value")
        if not isinstance(value, str) or not value.startswith("https://"):
            raise MeetingUnavailable("Microsoft Graph answered without a Virtual Appointment join URL.")
        return value

    def json_call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        what: str,
        *,
        base: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Graph as plain JSON over the provider's credential (or a delegated `token`), retried as its SDK calls
        are; `base`: v1.0 or another (default: beta)."""

        def attempt(number: int) -> dict[str, Any]:
            bearer = token or self._credential.get_token(GRAPH_SCOPE).token
            try:
                response = self._outbound.request(
                    method,
                    (self._beta if base is None else base) + path,
                    json=body,
                    headers={"Authorization": f"Bearer {bearer}"},
                )
            except DestinationRefused:
                raise
            except UpstreamError as error:
                raise Transient(retry_delay(number, None, first=2.0, cap=MAX_RETRY_AFTER), error.detail) from None
            status = response.status_code
            if status in (200, 201):
                answer: dict[str, Any] = response.json()
                return answer
            if status == 404:
                raise NotFound("The meeting's event subscription no longer exists.")
            if status != 429 and status < 500:
                log.error("Graph %s failed with HTTP %s", what, status)
                raise MeetingUnavailable(f"Microsoft Graph refused to {what} (HTTP {status}).")
            raise Transient(retry_after(response.headers, number), f"HTTP {status}")

        return self._retrying(what, attempt, f"Microsoft Graph did not answer in time to {what}.")
