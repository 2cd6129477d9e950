"""Secrets in Azure Key Vault (azure-keyvault-secrets, imported here only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.core.errors import NotFound, UpstreamError
from shared.core.usage import usage
from shared.secrets import check_secret_name

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.keyvault.secrets import SecretClient


class KeyVaultSecretStore:
    def __init__(self, client: SecretClient) -> None:
        self._client = client

    @classmethod
    def connect(cls, vault_url: str, credential: TokenCredential, **client_options: Any) -> KeyVaultSecretStore:
        """`client_options` go to SecretClient (transport settings such as `connection_verify`)."""
        from azure.keyvault.secrets import SecretClient

        return cls(SecretClient(vault_url, credential, **client_options))

    def get(self, name: str) -> str:
        usage.record("secrets", "get")
        from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError

        try:
            secret = self._client.get_secret(check_secret_name(name))
        except ResourceNotFoundError:
            raise NotFound(f"Secret {name} does not exist in Key Vault; create it or check the name.") from None
        except HttpResponseError as exc:
            raise UpstreamError(f"Key Vault refused to read secret {name} (HTTP {exc.status_code}).") from None
        except AzureError as exc:
            raise UpstreamError(f"Key Vault could not be reached to read secret {name}: {exc.message}") from None
        if secret.value is None:
            raise NotFound(f"Secret {name} has no value in Key Vault.")
        return secret.value

    def set(self, name: str, value: str) -> None:
        usage.record("secrets", "set")
        from azure.core.exceptions import AzureError, HttpResponseError

        try:
            self._client.set_secret(check_secret_name(name), value)
        except HttpResponseError as exc:
            raise UpstreamError(f"Key Vault refused to write secret {name} (HTTP {exc.status_code}).") from None
        except AzureError as exc:
            raise UpstreamError(f"Key Vault could not be reached to write secret {name}: {exc.message}") from None
