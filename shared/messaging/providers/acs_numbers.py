"""Phone numbers through Azure Communication Services (azure-communication-phonenumbers, imported here only).

Search and purchase are long-running operations (minutes). Rather than hold a worker while the SDK polls, each
call checks the operation once: `_CheckOnce` is the SDK's own poller with its wait between polls replaced by
"not yet", and the operation is resumed later from the SDK's continuation token (JSON: the first response's
status, headers and request URL), which the job stores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.messaging.providers.numbers import FoundNumbers, NumberSearch, PhoneNumberFailed, StillRunning

if TYPE_CHECKING:
    from azure.communication.phonenumbers import PhoneNumbersClient
    from azure.core.polling import LROPoller


_NUMBER_TYPES = {"toll_free": "tollFree", "geographic": "geographic"}


def _check_once(**options: Any) -> Any:
    from azure.core.polling.base_polling import LROBasePolling

    class _CheckOnce(LROBasePolling):  # type: ignore[type-arg]
        def _sleep(self, delay: float) -> None:
            raise StillRunning()

    return _CheckOnce(0, **options)


class AcsPhoneNumbers:
    def __init__(self, client: PhoneNumbersClient, endpoint: str) -> None:
        self._client: Any = client  # the SDK's own type comments confuse mypy
        self._path = {"endpoint": endpoint.rstrip("/")}

    @classmethod
    def connect(cls, endpoint: str, credential: Any, **client_options: Any) -> AcsPhoneNumbers:
        """`credential` is the managed identity (a TokenCredential) in Azure, or an AzureKeyCredential."""
        from azure.communication.phonenumbers import PhoneNumbersClient

        return cls(PhoneNumbersClient(endpoint, credential, **client_options), endpoint)

    def _outcome(self, poller: LROPoller[Any], what: str) -> Any:
        from azure.core.exceptions import AzureError

        try:
            return poller.result()
        except AzureError as error:
            raise PhoneNumberFailed(f"Azure Communication Services could not {what}: {_reason(error)}") from None

    def _begin(self, what: str, start: Any) -> str:
        from azure.core.exceptions import AzureError

        try:
            poller = start()
            poller.wait()  # its first check; the outcome is read again by the next `*_result`
        except StillRunning:
            pass
        except AzureError as error:
            raise PhoneNumberFailed(f"Azure Communication Services could not {what}: {_reason(error)}") from None
        return str(poller.continuation_token())

    def begin_search(self, search: NumberSearch) -> str:
        from azure.communication.phonenumbers import PhoneNumberCapabilities, PhoneNumberCapabilityType

        capabilities = PhoneNumberCapabilities(
            calling=PhoneNumberCapabilityType.NONE, sms=PhoneNumberCapabilityType.INBOUND_OUTBOUND
        )
        return self._begin(
            "start the search",
            lambda: self._client.begin_search_available_phone_numbers(
                search.country_code,
                _NUMBER_TYPES[search.number_type],
                "application",
                capabilities,
                area_code=search.area_code,
                quantity=1,
                polling=_check_once(lro_options={"final-state-via": "location"}, path_format_arguments=self._path),
            ),
        )

    def search_result(self, token: str) -> FoundNumbers:
        poller = self._client.begin_search_available_phone_numbers(
            "",
            "",
            "",
            None,
            continuation_token=token,
            polling=_check_once(lro_options={"final-state-via": "location"}, path_format_arguments=self._path),
        )
        result = self._outcome(poller, "find a number")
        if not result.phone_numbers:
            raise PhoneNumberFailed(
                f"Azure Communication Services has no such number available ({result.error or 'none found'})."
            )
        cost = result.cost
        return FoundNumbers(
            search_id=str(result.search_id),
            numbers=[str(n) for n in result.phone_numbers],
            monthly_cost=f"{cost.amount:.2f} {cost.currency_code}" if cost else None,
        )

    def begin_purchase(self, search_id: str) -> str:
        # The organisation's SMS consent includes the provider's terms, which forbid reselling its numbers.
        return self._begin(
            "start the purchase",
            lambda: self._client.begin_purchase_phone_numbers(
                search_id, agree_to_not_resell=True, polling=_check_once(path_format_arguments=self._path)
            ),
        )

    def purchase_result(self, token: str) -> None:
        poller = self._client.begin_purchase_phone_numbers(
            "", continuation_token=token, polling=_check_once(path_format_arguments=self._path)
        )
        self._outcome(poller, "buy the number")

    def holds(self, number: str) -> bool:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        try:
            self._client.get_purchased_phone_number(number)
        except ResourceNotFoundError:
            return False
        except AzureError as error:
            raise PhoneNumberFailed(
                f"Azure Communication Services could not look up the number: {_reason(error)}"
            ) from None
        return True

    def begin_release(self, number: str) -> str:
        return self._begin(
            "start releasing the number",
            lambda: self._client.begin_release_phone_number(
                number, polling=_check_once(path_format_arguments=self._path)
            ),
        )

    def release_result(self, token: str) -> None:
        poller = self._client.begin_release_phone_number(
            "", continuation_token=token, polling=_check_once(path_format_arguments=self._path)
        )
        self._outcome(poller, "release the number")


def _reason(error: Exception) -> str:
    """The service's error code and message (they name no person), else the kind of failure."""
    from azure.core.exceptions import HttpResponseError

    if isinstance(error, HttpResponseError):
        found = error.error  # the body's {"error": {"code", "message"}}: a failed call's or a failed operation's
        if found is not None and (found.code or found.message):
            return f"{found.code or 'error'}: {(found.message or '').strip()[:200]}"
        return f"HTTP {error.status_code}"
    return type(error).__name__
