"""Texts through Azure Communication Services (azure-communication-sms, imported here only).

Each text carries a repeatability request ID (a UUID derived from our message ID) and the time of its first try:
ACS answers a repeated request with the first one's result instead of sending again, so a text tried twice (a
host killed after ACS took it) reaches the patient once. `SmsClient.send` makes a fresh random ID on every call,
so the request is built here and sent through the client's generated operation, on the same authenticated
pipeline. The SDK does not retry (`retry_total=0`): a 429 or a 5xx goes back to the dispatcher, which puts the
text back on its queue for later rather than sleeping inside the function. Delivery reports are on and carry our
`tag` (tenant, endpoint and message ID).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.messaging.providers import OutgoingSms, SmsFailed, SmsRetryable, SmsThrottled

if TYPE_CHECKING:
    from azure.communication.sms import SmsClient

DEFAULT_RETRY_AFTER = 10.0


def _http_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")  # IMF-fixdate, as ACS requires


def _retry_after(response: Any) -> float:
    try:
        return max(1.0, float(response.headers.get("Retry-After", "")))
    except (AttributeError, TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


class AcsSmsSender:
    def __init__(self, client: SmsClient) -> None:
        self._client: Any = client  # the SDK's own type comments confuse mypy

    @classmethod
    def connect(cls, endpoint: str, credential: Any, **client_options: Any) -> AcsSmsSender:
        """`credential` is the managed identity (a TokenCredential) in Azure, or an AzureKeyCredential."""
        from azure.communication.sms import SmsClient

        options = {"retry_total": 0, "connection_timeout": 5, "read_timeout": 20, **client_options}
        return cls(SmsClient(endpoint, credential, **options))

    def send(self, message: OutgoingSms) -> str:
        from azure.communication.sms._generated.models import SendMessageRequest, SmsRecipient, SmsSendOptions
        from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

        request = SendMessageRequest(
            from_property=message.sender,
            sms_recipients=[
                SmsRecipient(
                    to=message.to,
                    repeatability_request_id=message.repeatability_id or None,
                    repeatability_first_sent=_http_date(message.first_sent) if message.first_sent else None,
                )
            ],
            message=message.body,
            sms_send_options=SmsSendOptions(enable_delivery_report=True, tag=message.tag or message.id),
        )
        try:
            results = self._client._sms_service_client.sms.send(request, cls=lambda _pr, body, _h: body.value)
        except HttpResponseError as error:
            status = error.status_code or 0
            if status == 429:
                raise SmsThrottled(
                    "ACS throttled the sender number (HTTP 429).", _retry_after(error.response)
                ) from None
            if status >= 500 or status in (408, 0):
                raise SmsRetryable(f"Azure Communication Services failed (HTTP {status}).") from None
            raise SmsFailed(f"Azure Communication Services refused the text (HTTP {status}).") from None
        except (ServiceRequestError, ServiceResponseError) as error:
            raise SmsRetryable(f"Azure Communication Services did not answer ({type(error).__name__}).") from None
        result = results[0]
        if not result.successful:
            status = int(result.http_status_code or 0)
            if status == 429:
                raise SmsThrottled("ACS throttled the sender number (HTTP 429).", DEFAULT_RETRY_AFTER)
            if status >= 500:
                raise SmsRetryable(f"Azure Communication Services failed (HTTP {status}).")
            raise SmsFailed(f"Azure Communication Services refused the text (HTTP {status}).")
        return str(result.message_id)
