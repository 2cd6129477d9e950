"""The settings groups besides storage, one per concern. Each checks its own rules; the names are the app
settings' names, and every message says what to set."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from shared.core.settings.base import SettingsGroup, blank_is_none


def _refused_in_prod(group: SettingsGroup, name: str, used: bool) -> None:
    if used and group.environment == "prod":
        raise ValueError(f"{name} is for development and is refused when ENVIRONMENT=prod")


class DeploymentSettings(SettingsGroup):
    """The connector's own addresses and identity."""

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
    azure_client_id: str | None = Field(
        default=None,
        alias="AZURE_CLIENT_ID",
        description="Client ID of the user-assigned managed identity (Azure only).",
    )

    _blank = field_validator("portal_url", mode="before")(blank_is_none)

    @model_validator(mode="after")
    def _urls(self) -> DeploymentSettings:
        for name, url in (("PUBLIC_BASE_URL", self.public_base_url), ("PORTAL_URL", self.portal_url)):
            if url and urlsplit(url).scheme not in {"https", "http"}:
                raise ValueError(f"{name} must be an absolute http(s) URL")
            if url and self.environment != "local" and urlsplit(url).scheme != "https":
                raise ValueError(f"{name} must be an https URL outside ENVIRONMENT=local")
        return self

    @property
    def public_base(self) -> str:
        return self.public_base_url.rstrip("/")

    @property
    def portal_base(self) -> str:
        return (self.portal_url or self.public_base_url).rstrip("/")

    @property
    def allow_http(self) -> bool:
        """Only local runs talk to http:// EHRs (the sandbox)."""
        return self.environment == "local"


class SignInSettings(SettingsGroup):
    """Portal sign-in: Entra ID, or the dev host's local issuer."""

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

    _blank = field_validator("local_issuer_url", mode="before")(blank_is_none)

    @model_validator(mode="after")
    def _local_issuer(self) -> SignInSettings:
        if self.local_issuer_url and self.environment != "local":
            raise ValueError("LOCAL_ISSUER_URL is the dev sign-in and is refused unless ENVIRONMENT=local")
        return self

    @property
    def allowed_tenants(self) -> frozenset[str]:
        return frozenset(t.strip().lower() for t in self.portal_allowed_tenants.split(",") if t.strip())


class EhrSettings(SettingsGroup):
    """Outbound calls to EHRs."""

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


class VisitSettings(SettingsGroup):
    """Meetings and join links."""

    meeting_provider: Literal["graph", "local"] = Field(
        alias="MEETING_PROVIDER", description="graph (Microsoft Teams) or local (the dev host's meeting page)."
    )
    meeting_organizer_id: str = Field(
        default="",
        alias="MEETING_ORGANIZER_ID",
        description="Microsoft 365 user ID of the service organizer of meetings whose clinician has no mapped "
        "user (required with MEETING_PROVIDER=graph; it needs a Teams application access policy).",
    )
    clinician_sign_in_client_id: str | None = Field(
        default=None,
        alias="CLINICIAN_SIGN_IN_CLIENT_ID",
        description="Client ID of the Entra ID app registration (web, multitenant, redirect URI "
        "{PUBLIC_BASE_URL}/api/launch/microsoft) clinicians sign in through once, so that their meetings are their "
        "own; its client secret is the secret clinician-sign-in-secret. Empty: every meeting has the service "
        "organizer.",
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

    _blank = field_validator("clinician_sign_in_client_id", mode="before")(blank_is_none)

    @model_validator(mode="after")
    def _provider(self) -> VisitSettings:
        if self.meeting_provider == "graph" and not self.meeting_organizer_id:
            raise ValueError("Missing required setting MEETING_ORGANIZER_ID (needed with MEETING_PROVIDER=graph)")
        _refused_in_prod(self, "MEETING_PROVIDER=local", self.meeting_provider == "local")
        return self


class MessagingSettings(SettingsGroup):
    """Texts and phone numbers."""

    @field_validator("sms_countries")
    @classmethod
    def _countries(cls, value: str) -> str:
        import phonenumbers

        codes = [code.strip().upper() for code in value.split(",") if code.strip()]
        unknown = [code for code in codes if not phonenumbers.country_code_for_region(code)]
        if not codes:
            raise ValueError("SMS_COUNTRIES lists no country; leave it unset for US")
        if unknown:
            raise ValueError(f"SMS_COUNTRIES holds {', '.join(unknown)}, not ISO 3166 country codes such as US")
        return ",".join(codes)

    @property
    def allowed_sms_countries(self) -> tuple[str, ...]:
        return tuple(self.sms_countries.split(","))

    sms_provider: Literal["acs", "outbox"] = Field(
        alias="SMS_PROVIDER", description="acs (Azure Communication Services) or outbox (stored, not sent)."
    )
    acs_endpoint: str | None = Field(
        default=None,
        alias="ACS_ENDPOINT",
        description="Azure Communication Services endpoint, required with SMS_PROVIDER=acs.",
    )
    sms_countries: str = Field(
        default="US",
        alias="SMS_COUNTRIES",
        description="Comma-separated ISO 3166 codes of the countries organisations may text patients in (default US, "
        "where the connector's texts are supported; others only by this setting, once their sender rules are met).",
    )
    sms_rate_per_minute: int = Field(
        default=200,
        alias="SMS_RATE_PER_MINUTE",
        ge=1,
        le=6000,
        description="Texts per minute per toll-free sender number (ACS: 200), shared by every instance.",
    )
    sms_rate_geographic_per_minute: int = Field(
        default=60,
        alias="SMS_RATE_GEOGRAPHIC_PER_MINUTE",
        ge=1,
        le=6000,
        description="Texts per minute per geographic (10DLC) sender number: the campaign's approved throughput.",
    )
    sms_max_attempts: int = Field(
        default=6,
        alias="SMS_MAX_ATTEMPTS",
        ge=1,
        le=20,
        description="Tries of one text when ACS fails (5xx, timeout) before it is marked failed; 429s are not counted.",
    )
    phone_number_poll_seconds: int = Field(
        default=10,
        alias="PHONE_NUMBER_POLL_SECONDS",
        ge=0,
        le=300,
        description="How long a phone number job waits before checking a running provider operation again.",
    )

    _blank = field_validator("acs_endpoint", mode="before")(blank_is_none)

    @model_validator(mode="after")
    def _provider(self) -> MessagingSettings:
        if self.sms_provider == "acs" and not self.acs_endpoint:
            raise ValueError("Missing required setting ACS_ENDPOINT (needed with SMS_PROVIDER=acs)")
        _refused_in_prod(self, "SMS_PROVIDER=outbox", self.sms_provider == "outbox")
        return self


class SchedulingSettings(SettingsGroup):
    """HL7 scheduling messages and reminders."""

    hl7_max_age_hours: int = Field(
        default=24,
        alias="HL7_MAX_AGE_HOURS",
        ge=1,
        le=720,
        description="Scheduling messages whose MSH-7 is older than this are rejected (AR) as stale.",
    )
    reminder_max_late_minutes: int = Field(
        default=30,
        alias="REMINDER_MAX_LATE_MINUTES",
        ge=1,
        le=1440,
        description="A reminder more overdue than this (after downtime) is skipped rather than sent late.",
    )


class SecretSettings(SettingsGroup):
    """Where secrets (join-link, opt-out and writeback keys) are kept."""

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

    _blank = field_validator("key_vault_url", mode="before")(blank_is_none)

    @model_validator(mode="after")
    def _vault(self) -> SecretSettings:
        if self.secrets_provider == "keyvault":
            if not self.key_vault_url:
                raise ValueError("Missing required setting KEY_VAULT_URL (needed with SECRETS_PROVIDER=keyvault)")
            if urlsplit(self.key_vault_url).scheme != "https":
                raise ValueError("KEY_VAULT_URL must be an https URL")
        _refused_in_prod(self, "SECRETS_PROVIDER=env", self.secrets_provider == "env")
        return self
