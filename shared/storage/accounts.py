"""Storage accounts and their clients: one client per service per account per worker, created on first use.

In Azure an account is named and reached with the managed identity (DefaultAzureCredential); an Azurite
connection string is accepted only for loopback endpoints (settings enforce it). The SDKs are imported here,
lazily, so that `import function_app` stays fast.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from shared.core.errors import ConfigurationError
from shared.core.identity import CredentialFactory
from shared.core.settings import Geography, StorageSettings
from shared.core.usage import usage
from shared.storage.metering import operation

if TYPE_CHECKING:
    from azure.data.tables import TableClient, TableServiceClient
    from azure.storage.queue import QueueClient, QueueServiceClient

C = TypeVar("C")

# Connect/read timeouts for every storage call; the SDK default read timeout is minutes.
_TIMEOUTS: dict[str, Any] = {"connection_timeout": 5, "read_timeout": 30}
POOL_SIZE = 32  # connections kept per host: more than the host's function threads, so none is discarded
_PROXY_ENVIRONMENT = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
_CA_BUNDLE_ENVIRONMENT = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def _environment(name: str) -> str | None:
    return os.environ.get(name) or os.environ.get(name.lower())


def storage_transport(account: str = "", service: str = "table") -> Any:
    """The HTTP transport of one storage service client (`service`: table or queue of the account labelled
    `account`): a `requests` session whose pool is larger than the host's concurrency. `requests` otherwise consults
    the environment on every call (a .netrc lookup, the CA bundle's path checked on disk: about a sixth of an HL7
    ingest's time under py-spy) and merges cookies, hooks and session settings that storage calls never use. A CA
    bundle named in the environment is loaded once; a proxy setting keeps `requests`' own handling (so `NO_PROXY`
    still applies). While usage is counted (shared/core/usage.py), each request sent, retries included, is counted
    by table or queue and kind."""
    import ssl

    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from urllib3.util.retry import Retry

    bundle = next((path for name in _CA_BUNDLE_ENVIRONMENT if (path := _environment(name))), None)
    context = ssl.create_default_context(cafile=bundle) if bundle else None

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            if context is not None:
                kwargs["ssl_context"] = context
            super().init_poolmanager(*args, **kwargs)

    class DirectSession(requests.Session):
        """A request goes straight to the adapter: no cookies, hooks, redirects (the SDK's pipeline follows
        those itself) or environment."""

        def request(  # type: ignore[override]
            self,
            method: str,
            url: str,
            *,
            headers: Any = None,
            data: Any = None,
            files: Any = None,
            verify: Any = True,
            timeout: Any = None,
            cert: Any = None,
            proxies: Any = None,
            stream: bool = False,
            **_: Any,
        ) -> requests.Response:
            prepared = requests.PreparedRequest()
            prepared.prepare(method=method, url=url, headers=headers, data=data, files=files)
            response = self.get_adapter(url).send(
                prepared, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies or {}
            )
            if not stream:
                response.content  # noqa: B018 - read whole now, as Session.send does
            return response

    proxied = any(_environment(name) for name in _PROXY_ENVIRONMENT)
    session = requests.Session() if proxied else DirectSession()
    session.trust_env = proxied
    adapter = Adapter(pool_maxsize=POOL_SIZE, max_retries=Retry(total=False, redirect=False, raise_on_status=False))
    for scheme in ("http://", "https://"):
        session.mount(scheme, adapter)

    class MeteredTransport(RequestsTransport):  # type: ignore[misc]
        def send(self, request: Any, **kwargs: Any) -> Any:
            response = super().send(request, **kwargs)
            if usage.counting:
                body = request.data if isinstance(request.data, bytes) else None
                resource, kind = operation(service, request.method, request.url, body)
                if kind == "get" and b"<QueueMessage>" not in response.body():
                    kind = "get-empty"
                usage.record("storage", account, resource, kind)
            return response

    return MeteredTransport(session=session, session_owner=True, **_TIMEOUTS)


class StorageAccount:
    """One storage account: table and queue clients, and the tables and queues created so far."""

    def __init__(
        self, label: str, setting: str, credential: CredentialFactory, endpoint_suffix: str = "core.windows.net"
    ) -> None:
        self.label = label
        self._setting = setting
        self._credential = credential
        self._suffix = endpoint_suffix
        self._lock = threading.Lock()
        self._tables: dict[str, TableClient] = {}
        self._queues: dict[str, QueueClient] = {}

    @property
    def uses_connection_string(self) -> bool:
        return "=" in self._setting

    def _endpoint(self, service: str) -> str:
        return f"https://{self._setting}.{service}.{self._suffix}"

    @cached_property
    def table_service(self) -> TableServiceClient:
        from azure.data.tables import TableServiceClient

        if self.uses_connection_string:
            return TableServiceClient.from_connection_string(
                self._setting, transport=storage_transport(self.label, "table"), **_TIMEOUTS
            )
        return TableServiceClient(
            self._endpoint("table"),
            credential=self._credential(),
            transport=storage_transport(self.label, "table"),
            **_TIMEOUTS,
        )

    @cached_property
    def queue_service(self) -> QueueServiceClient:
        from azure.storage.queue import QueueServiceClient

        if self.uses_connection_string:
            return QueueServiceClient.from_connection_string(
                self._setting, transport=storage_transport(self.label, "queue"), **_TIMEOUTS
            )
        return QueueServiceClient(
            self._endpoint("queue"),
            credential=self._credential(),
            transport=storage_transport(self.label, "queue"),
            **_TIMEOUTS,
        )

    def _once(self, cache: dict[str, C], name: str, build: Callable[[], C]) -> C:
        client = cache.get(name)
        if client is None:
            with self._lock:
                client = cache.get(name)
                if client is None:
                    client = cache[name] = build()
        return client

    def table(self, name: str) -> TableClient:
        """A client for a table, creating the table the first time this worker asks for it."""
        return self._once(self._tables, name, lambda: self.table_service.create_table_if_not_exists(name))

    def queue(self, name: str) -> QueueClient:
        """A client for a queue (messages Base64-encoded, as the Functions host expects), created on first use."""
        return self._once(self._queues, name, lambda: self._create_queue(name))

    def _create_queue(self, name: str) -> QueueClient:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.queue import BinaryBase64DecodePolicy, BinaryBase64EncodePolicy

        client = self.queue_service.get_queue_client(
            name, message_encode_policy=BinaryBase64EncodePolicy(), message_decode_policy=BinaryBase64DecodePolicy()
        )
        try:
            client.create_queue()
        except ResourceExistsError:
            pass
        return client

    def ping(self, timeout: float) -> bool:
        """Whether the table service answers an authenticated request within `timeout` seconds."""
        try:
            pages = self.table_service.query_tables(
                "TableName eq 'healthcheck'",
                results_per_page=1,
                retry_total=0,
                connection_timeout=timeout,
                read_timeout=timeout,
            ).by_page()
            next(pages, None)
        except Exception:  # noqa: BLE001 - any failure means "not reachable"; the caller reports it.
            return False
        return True


class StorageAccounts:
    """The app's own account (control plane, queues) and one data account per enabled geography."""

    def __init__(self, settings: StorageSettings, credential: CredentialFactory) -> None:
        app_setting = settings.app_storage or settings.app_storage_account or ""
        self.app = StorageAccount("app", app_setting, credential, settings.storage_endpoint_suffix)
        self._data: dict[Geography, StorageAccount] = {}
        for geography in settings.enabled_geographies:
            setting = settings.data_storage(geography) or ""
            self._data[geography] = StorageAccount(
                geography.value.lower(), setting, credential, settings.storage_endpoint_suffix
            )

    def for_geography(self, geography: Geography) -> StorageAccount:
        try:
            return self._data[geography]
        except KeyError:
            raise ConfigurationError(
                f"No storage account is configured for geography {geography.value}; set DATA_STORAGE_{geography.value}."
            ) from None

    def all(self) -> list[StorageAccount]:
        return [self.app, *self._data.values()]
