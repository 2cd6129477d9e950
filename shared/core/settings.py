"""Every setting the app reads, in one class. Read from the environment (app settings in Azure; the dev host
loads local.settings.json Values into the environment, as the Functions host does).

Required settings have no default: a missing one fails at start with its name.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.core.errors import ConfigurationError

Environment = Literal["local", "test", "prod"]


class Geography(StrEnum):
    """Where an organisation's data lives; each has its own storage account."""

    US = "US"
    EU = "EU"
    APAC = "APAC"


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, populate_by_name=False)

    environment: Environment = Field(alias="ENVIRONMENT", description="local, test or prod.")

    # Storage. The app's own account holds the control-plane tables and the queues.
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
        default=None, alias="DATA_STORAGE_US", description="Storage account for US organisations' data."
    )
    data_storage_eu: str | None = Field(
        default=None, alias="DATA_STORAGE_EU", description="Storage account for EU organisations' data."
    )
    data_storage_apac: str | None = Field(
        default=None, alias="DATA_STORAGE_APAC", description="Storage account for APAC organisations' data."
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
    azure_client_id: str | None = Field(
        default=None,
        alias="AZURE_CLIENT_ID",
        description="Client ID of the user-assigned managed identity (Azure only).",
    )

    # The connector's own addresses.
    public_base_url: str = Field(
        alias="PUBLIC_BASE_URL",
        description="The connector's public URL (the function app), used in redirect URIs and launch records.",
    )
    portal_url: str | None = Field(
        default=None,
        alias="PORTAL_URL",
        description="The admin portal's URL, where the approver returns after the EHR sign-in "
        "(default: PUBLIC_BASE_URL).",
    )

    # Portal sign-in.
    portal_api_audience: str = Field(
        alias="PORTAL_API_AUDIENCE",
        description="Audience of portal access tokens: the API's application ID URI or client ID in Entra ID.",
    )
    entra_authority: str = Field(
        default="https://login.microsoftonline.com",
        alias="ENTRA_AUTHORITY",
        description="Entra ID authority host; tokens must come from {authority}/{tenant}/v2.0.",
    )
    portal_allowed_tenants: str = Field(
        default="",
        alias="PORTAL_ALLOWED_TENANTS",
        description="Comma-separated Entra tenant IDs allowed to use the portal; empty allows any tenant.",
    )
    portal_client_id: str | None = Field(
        default=None,
        alias="PORTAL_CLIENT_ID",
        description="Client ID of the portal SPA's Entra ID app registration, for MSAL sign-in "
        "(default: the API's, when PORTAL_API_AUDIENCE is a client ID or api://{client ID}).",
    )
    local_issuer_url: str | None = Field(
        default=None,
        alias="LOCAL_ISSUER_URL",
        description="The dev host's local sign-in issuer; accepted only when ENVIRONMENT=local.",
    )

    # Outbound calls to EHRs.
    http_timeout_seconds: float = Field(
        default=10.0, alias="HTTP_TIMEOUT_SECONDS", gt=0, le=120, description="Timeout of calls to EHR servers."
    )
    smart_cache_seconds: int = Field(
        default=3600,
        alias="SMART_CACHE_SECONDS",
        ge=0,
        le=86400,
        description="How long SMART discovery documents and EHR signing keys are cached.",
    )

    # Providers.
    meeting_provider: Literal["graph", "local"] = Field(
        alias="MEETING_PROVIDER", description="graph (Microsoft Teams) or local (the dev host's meeting page)."
    )
    meeting_organizer_id: str = Field(
        default="",
        alias="MEETING_ORGANIZER_ID",
        description="Microsoft 365 user ID of the service organizer of meetings whose clinician has no mapped "
        "user (required with MEETING_PROVIDER=graph; it needs a Teams application access policy).",
    )
    graph_base_url: str = Field(
        default="https://graph.microsoft.com/v1.0",
        alias="GRAPH_BASE_URL",
        description="Microsoft Graph endpoint (national clouds differ).",
    )
    join_link_opens_minutes: int = Field(
        default=30,
        alias="JOIN_LINK_OPENS_MINUTES",
        ge=0,
        le=1440,
        description="SMS join links work from this many minutes before the appointment starts.",
    )
    join_link_closes_minutes: int = Field(
        default=60,
        alias="JOIN_LINK_CLOSES_MINUTES",
        ge=0,
        le=1440,
        description="SMS join links stop working this many minutes after the appointment ends.",
    )
    visit_length_minutes: int = Field(
        default=60,
        alias="VISIT_LENGTH_MINUTES",
        ge=5,
        le=720,
        description="Meeting length when the appointment's times are not known.",
    )
    hl7_max_age_hours: int = Field(
        default=24,
        alias="HL7_MAX_AGE_HOURS",
        ge=1,
        le=720,
        description="Scheduling messages whose MSH-7 is older than this are rejected (AR) as stale.",
    )
    acs_endpoint: str | None = Field(
        default=None,
        alias="ACS_ENDPOINT",
        description="Azure Communication Services endpoint, required with SMS_PROVIDER=acs.",
    )
    sms_rate_per_minute: int = Field(
        default=200,
        alias="SMS_RATE_PER_MINUTE",
        ge=1,
        le=6000,
        description="Texts per minute per sender number (toll-free numbers: 200; short codes: 6000).",
    )
    phone_number_poll_seconds: int = Field(
        default=10,
        alias="PHONE_NUMBER_POLL_SECONDS",
        ge=0,
        le=300,
        description="How long a phone number job waits before checking a running provider operation again.",
    )
    reminder_max_late_minutes: int = Field(
        default=30,
        alias="REMINDER_MAX_LATE_MINUTES",
        ge=1,
        le=1440,
        description="A reminder more overdue than this (after downtime) is skipped rather than sent late.",
    )
    sms_provider: Literal["acs", "outbox"] = Field(
        alias="SMS_PROVIDER", description="acs (Azure Communication Services) or outbox (stored, not sent)."
    )
    secrets_provider: Literal["keyvault", "env"] = Field(
        alias="SECRETS_PROVIDER", description="keyvault, or env (SECRET_* environment variables; local only)."
    )
    key_vault_url: str | None = Field(
        default=None, alias="KEY_VAULT_URL", description="Key Vault URL, required with SECRETS_PROVIDER=keyvault."
    )
    secret_cache_seconds: int = Field(
        default=300,
        alias="SECRET_CACHE_SECONDS",
        ge=0,
        le=86400,
        description="How long a secret read from the store is reused before it is read again (rotation delay).",
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

    @field_validator("key_vault_url", "local_issuer_url", "portal_url", "acs_endpoint", mode="before")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if not self.app_storage and not self.app_storage_account:
            raise ValueError(
                "Missing required setting AzureWebJobsStorage__accountName (or AzureWebJobsStorage for Azurite)"
            )
        if not any(self.data_storage(g) for g in Geography):
            raise ValueError("Set at least one of DATA_STORAGE_US, DATA_STORAGE_EU, DATA_STORAGE_APAC")
        if self.secrets_provider == "keyvault":
            if not self.key_vault_url:
                raise ValueError("Missing required setting KEY_VAULT_URL (needed with SECRETS_PROVIDER=keyvault)")
            if urlsplit(self.key_vault_url).scheme != "https":
                raise ValueError("KEY_VAULT_URL must be an https URL")
        for name, url in (("PUBLIC_BASE_URL", self.public_base_url), ("PORTAL_URL", self.portal_url)):
            if url and urlsplit(url).scheme not in {"https", "http"}:
                raise ValueError(f"{name} must be an absolute http(s) URL")
            if url and self.environment != "local" and urlsplit(url).scheme != "https":
                raise ValueError(f"{name} must be an https URL outside ENVIRONMENT=local")
        if self.local_issuer_url and self.environment != "local":
            raise ValueError("LOCAL_ISSUER_URL is the dev sign-in and is refused unless ENVIRONMENT=local")
        if self.sms_provider == "acs" and not self.acs_endpoint:
            raise ValueError("Missing required setting ACS_ENDPOINT (needed with SMS_PROVIDER=acs)")
        if self.meeting_provider == "graph" and not self.meeting_organizer_id:
            raise ValueError("Missing required setting MEETING_ORGANIZER_ID (needed with MEETING_PROVIDER=graph)")
        if self.environment == "prod":
            local_only = {
                "MEETING_PROVIDER=local": self.meeting_provider == "local",
                "SMS_PROVIDER=outbox": self.sms_provider == "outbox",
                "SECRETS_PROVIDER=env": self.secrets_provider == "env",
            }
            refused = [name for name, used in local_only.items() if used]
            if refused:
                raise ValueError(f"{', '.join(refused)} is for development and is refused when ENVIRONMENT=prod")
        return self

    @property
    def public_base(self) -> str:
        return self.public_base_url.rstrip("/")

    @property
    def portal_base(self) -> str:
        return (self.portal_url or self.public_base_url).rstrip("/")

    @property
    def allowed_tenants(self) -> frozenset[str]:
        return frozenset(t.strip().lower() for t in self.portal_allowed_tenants.split(",") if t.strip())

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


def load_settings() -> Settings:
    """Read and validate the settings, turning pydantic's report into one sentence per problem."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            if error["type"] == "missing":
                problems.append(f"Missing required setting {name}")
            elif error["type"] == "value_error":
                problems.append(str(error["msg"]).removeprefix("Value error, "))
            else:
                problems.append(f"Invalid setting {name}: {error['msg']}")
        raise ConfigurationError(
            "; ".join(problems) + ". Set it in the app settings (local.settings.json when running locally)."
        ) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
