"""Texts through Azure Communication Services (azure-communication-sms, imported here only).

Delivery reports are on and carry our `tag` (tenant, endpoint and message ID). A token bucket per sender
number keeps within ACS's per-number limit (toll-free: 200 a minute); 429 and 5xx are retried by the SDK's
retry policy, which honours Retry-After.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.core.ratelimit import TokenBucket
from shared.messaging.providers import OutgoingSms, SmsFailed

if TYPE_CHECKING:
    from azure.communication.sms import SmsClient


class AcsSmsSender:
    def __init__(self, client: SmsClient, bucket: TokenBucket) -> None:
        self._client: Any = client  # the SDK's own type comments confuse mypy
        self._bucket = bucket

    @classmethod
    def connect(cls, endpoint: str, credential: Any, bucket: TokenBucket, **client_options: Any) -> AcsSmsSender:
        """`credential` is the managed identity (a TokenCredential) in Azure, or an AzureKeyCredential."""
        from azure.communication.sms import SmsClient

        return cls(SmsClient(endpoint, credential, **client_options), bucket)

    def send(self, message: OutgoingSms) -> str:
        from azure.core.exceptions import AzureError

        self._bucket.acquire(message.sender)
        try:
            results = self._client.send(
                from_=message.sender,
                to=[message.to],
                message=message.body,
                enable_delivery_report=True,
                tag=message.tag or message.id,
            )
        except AzureError as error:
            raise SmsFailed(f"Azure Communication Services did not take the text ({type(error).__name__}).") from None
        result = results[0]
        if not result.successful:
            raise SmsFailed(f"Azure Communication Services refused the text (HTTP {result.http_status_code}).")
        return str(result.message_id)
