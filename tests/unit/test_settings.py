from __future__ import annotations

import pytest

from shared.core.errors import ConfigurationError
from shared.core.settings import Geography, load_settings

AZURITE = (
    "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;"
    "TableEndpoint=http://127.0.0.1:10002/a;QueueEndpoint=http://127.0.0.1:10001/a;"
)
VALID = {
    "ENVIRONMENT": "local",
    "AzureWebJobsStorage": AZURITE,
    "DATA_STORAGE_EU": AZURITE,
    "MEETING_PROVIDER": "local",
    "SMS_PROVIDER": "outbox",
    "SECRETS_PROVIDER": "env",
    "PUBLIC_BASE_URL": "http://localhost:7071",
    "PORTAL_API_AUDIENCE": "api://connector",
}
ALL_SETTINGS = [
    *VALID,
    "AzureWebJobsStorage__accountName",
    "DATA_STORAGE_US",
    "DATA_STORAGE_APAC",
    "KEY_VAULT_URL",
    "TABLE_PREFIX",
    "LOCAL_ISSUER_URL",
    "PORTAL_URL",
    "MEETING_ORGANIZER_ID",
    "ACS_ENDPOINT",
]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ALL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, value in VALID.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def problem(env: pytest.MonkeyPatch) -> str:
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    return raised.value.detail


def test_valid_local_settings_load(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.environment == "local"
    assert settings.storage.enabled_geographies == [Geography.EU]
    assert settings.secrets.secret_cache_seconds == 300


@pytest.mark.parametrize(
    "name",
    ["ENVIRONMENT", "MEETING_PROVIDER", "SMS_PROVIDER", "SECRETS_PROVIDER", "PUBLIC_BASE_URL", "PORTAL_API_AUDIENCE"],
)
def test_a_missing_required_setting_is_named(env: pytest.MonkeyPatch, name: str) -> None:
    env.delenv(name)
    assert f"Missing required setting {name}" in problem(env)


def test_missing_app_storage_is_named(env: pytest.MonkeyPatch) -> None:
    env.delenv("AzureWebJobsStorage")
    assert "AzureWebJobsStorage__accountName" in problem(env)


def test_no_data_geography_is_refused(env: pytest.MonkeyPatch) -> None:
    env.delenv("DATA_STORAGE_EU")
    assert "DATA_STORAGE_US" in problem(env)


def test_provider_choices_are_checked(env: pytest.MonkeyPatch) -> None:
    env.setenv("MEETING_PROVIDER", "zoom")
    assert "MEETING_PROVIDER" in problem(env)


def test_keyvault_needs_its_url(env: pytest.MonkeyPatch) -> None:
    env.setenv("SECRETS_PROVIDER", "keyvault")
    assert "Missing required setting KEY_VAULT_URL" in problem(env)
    env.setenv("KEY_VAULT_URL", "http://vault.example")
    assert "https" in problem(env)


@pytest.mark.parametrize(
    ("name", "value"), [("MEETING_PROVIDER", "local"), ("SMS_PROVIDER", "outbox"), ("SECRETS_PROVIDER", "env")]
)
def test_local_providers_are_refused_in_prod(env: pytest.MonkeyPatch, name: str, value: str) -> None:
    env.setenv("ENVIRONMENT", "prod")
    env.setenv("MEETING_PROVIDER", "graph")
    env.setenv("SMS_PROVIDER", "acs")
    env.setenv("SECRETS_PROVIDER", "keyvault")
    env.setenv("KEY_VAULT_URL", "https://vault.example")
    env.setenv("AzureWebJobsStorage", "")
    env.setenv("AzureWebJobsStorage__accountName", "connectorapp")
    env.setenv("DATA_STORAGE_EU", "connectoreu")
    env.setenv("PUBLIC_BASE_URL", "https://connector.contoso.org")
    env.setenv("MEETING_ORGANIZER_ID", "5b7f3c2e-0000-4000-8000-000000000001")
    env.setenv("ACS_ENDPOINT", "https://acs.communication.azure.com")
    assert load_settings().environment == "prod"
    env.setenv(name, value)
    assert f"{name}={value} is for development" in problem(env)


def test_connection_string_of_a_real_account_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv(
        "DATA_STORAGE_EU",
        "DefaultEndpointsProtocol=https;AccountName=prodeu;AccountKey=a2V5;EndpointSuffix=core.windows.net",
    )
    assert "DATA_STORAGE_EU holds a connection string for a real account" in problem(env)


def test_account_names_are_checked(env: pytest.MonkeyPatch) -> None:
    env.setenv("DATA_STORAGE_EU", "Not_An-Account")
    assert "DATA_STORAGE_EU must be a storage account name" in problem(env)


def test_development_storage_shortcut_counts_as_emulator(env: pytest.MonkeyPatch) -> None:
    env.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    assert load_settings().storage.app_storage == "UseDevelopmentStorage=true"


def test_sample_settings_file_lists_every_setting() -> None:
    import json
    from pathlib import Path

    from shared.core.settings import Settings

    sample = json.loads((Path(__file__).parents[2] / "local.settings.sample.json").read_text())["Values"]
    aliases = Settings.names()
    assert aliases <= set(sample), f"missing from local.settings.sample.json: {aliases - set(sample)}"


def test_local_issuer_is_refused_outside_local(env: pytest.MonkeyPatch) -> None:
    env.setenv("LOCAL_ISSUER_URL", "http://127.0.0.1:7073")
    assert load_settings().sign_in.local_issuer_url == "http://127.0.0.1:7073"
    env.setenv("ENVIRONMENT", "test")
    env.setenv("PUBLIC_BASE_URL", "https://connector.contoso.org")
    assert "LOCAL_ISSUER_URL is the dev sign-in and is refused unless ENVIRONMENT=local" in problem(env)


def test_public_url_must_be_https_outside_local(env: pytest.MonkeyPatch) -> None:
    env.setenv("ENVIRONMENT", "test")
    assert "PUBLIC_BASE_URL must be an https URL" in problem(env)


def test_graph_needs_a_service_organizer(env: pytest.MonkeyPatch) -> None:
    env.setenv("MEETING_PROVIDER", "graph")
    assert "Missing required setting MEETING_ORGANIZER_ID" in problem(env)


def test_acs_needs_its_endpoint(env: pytest.MonkeyPatch) -> None:
    env.setenv("SMS_PROVIDER", "acs")
    assert "Missing required setting ACS_ENDPOINT" in problem(env)
