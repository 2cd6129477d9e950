"""Storage settings: the app's own account (control plane, queues) and one account per geography (data plane)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from shared.core.geography import Geography, data_storage_setting
from shared.core.settings.base import SettingsGroup
from shared.core.startup import NO_APP_STORAGE, NO_DATA_STORAGE

_ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def is_emulator_connection_string(value: str) -> bool:
    """True for Azurite connection strings: development storage, or every endpoint on loopback."""
    parts = dict(part.split("=", 1) for part in value.split(";") if "=" in part)
    if parts.get("UseDevelopmentStorage", "").lower() == "true":
        return True
    endpoints = [v for k, v in parts.items() if k.endswith("Endpoint")]
    return bool(endpoints) and all(urlsplit(e).hostname in _LOOPBACK_HOSTS for e in endpoints)


def _check_storage_value(name: str, value: str | None) -> str | None:
    """A storage setting is an account name (managed identity) or, for Azurite only, a connection string."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if "=" in value:
        if not is_emulator_connection_string(value):
            raise ValueError(
                f"{name} holds a connection string for a real account; give the storage account name "
                "instead, and grant the app's managed identity its data roles"
            )
        return value
    if not _ACCOUNT_NAME.match(value):
        raise ValueError(f"{name} must be a storage account name (3-24 lowercase letters and digits)")
    return value


class StorageSettings(SettingsGroup):
    app_storage: str | None = Field(
        default=None,
        alias="AzureWebJobsStorage",
        description="Azurite connection string (local only). In Azure use AzureWebJobsStorage__accountName.",
    )
    app_storage_account: str | None = Field(
        default=None,
        alias="AzureWebJobsStorage__accountName",
        description="The app's storage account name, reached with the managed identity.",
    )
    data_storage_us: str | None = Field(
        default=None,
        alias=data_storage_setting(Geography.US),
        description="Storage account for US organisations' data.",
    )
    data_storage_eu: str | None = Field(
        default=None,
        alias=data_storage_setting(Geography.EU),
        description="Storage account for EU organisations' data.",
    )
    data_storage_apac: str | None = Field(
        default=None,
        alias=data_storage_setting(Geography.APAC),
        description="Storage account for APAC organisations' data.",
    )
    storage_endpoint_suffix: str = Field(
        default="core.windows.net",
        alias="STORAGE_ENDPOINT_SUFFIX",
        description="DNS suffix of storage endpoints (sovereign clouds differ).",
    )
    table_prefix: str = Field(
        default="",
        alias="TABLE_PREFIX",
        pattern=r"^([A-Za-z][A-Za-z0-9]{0,15})?$",
        description="Prefix for every table name, so that several deployments or test runs can share an account.",
    )
    storage_timeout_seconds: float = Field(
        default=5.0,
        alias="STORAGE_TIMEOUT_SECONDS",
        gt=0,
        le=60,
        description="Connect and read timeout of the health check's storage probe.",
    )

    @field_validator("app_storage", "data_storage_us", "data_storage_eu", "data_storage_apac", mode="before")
    @classmethod
    def _storage_value(cls, value: str | None, info: ValidationInfo) -> str | None:
        field_name = info.field_name or ""
        alias = cls.model_fields[field_name].alias or field_name
        return _check_storage_value(alias, value)

    @model_validator(mode="after")
    def _accounts(self) -> StorageSettings:
        if not self.app_storage and not self.app_storage_account:
            raise ValueError(NO_APP_STORAGE)
        if not any(self.data_storage(g) for g in Geography):
            raise ValueError(NO_DATA_STORAGE)
        return self

    def data_storage(self, geography: Geography) -> str | None:
        """The storage setting (account name or Azurite connection string) of a geography, if enabled."""
        return {
            Geography.US: self.data_storage_us,
            Geography.EU: self.data_storage_eu,
            Geography.APAC: self.data_storage_apac,
        }[geography]

    @property
    def enabled_geographies(self) -> list[Geography]:
        return [g for g in Geography if self.data_storage(g)]
