"""Rotating the join-link key in Key Vault: the current key becomes `join-link-key-previous` and a new one is made,
so that join links already texted and clinicians' visit sessions keep working (the app accepts both keys).

The opt-out key is not rotated, on purpose: opt-outs are kept only as HMACs of the numbers under it, and an HMAC
cannot be re-keyed without the number, which the connector never keeps. A new key would silently forget every
STOP. It also derives the key that seals phone numbers inside queued appointment changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.secrets import SecretStore
from shared.secrets.keyring import Rotation, rotate
from shared.visits.join_links import SECRET_NAME

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

ROTATABLE = (SECRET_NAME,)


def vault_url(vault: str) -> str:
    """A vault's URL from its name (Azure's public cloud) or as given."""
    return vault if vault.startswith("https://") else f"https://{vault}.vault.azure.net"


def connect(vault: str, credential: TokenCredential | None = None) -> SecretStore:
    from azure.identity import DefaultAzureCredential

    from shared.secrets.keyvault import KeyVaultSecretStore

    return KeyVaultSecretStore.connect(vault_url(vault), credential or DefaultAzureCredential())


def rotate_join_link_key(store: SecretStore) -> Rotation:
    return rotate(store, SECRET_NAME)
