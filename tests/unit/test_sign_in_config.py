"""What the portal SPA is told about signing in: the local issuer only in local runs, otherwise MSAL settings
for the API's Entra ID app registration."""

from __future__ import annotations

from typing import Any

import pytest

from shared.auth.sign_in import sign_in_config
from shared.core.settings import SignInSettings

AZURITE = (
    "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;"
    "TableEndpoint=http://127.0.0.1:10002/a;QueueEndpoint=http://127.0.0.1:10001/a;"
)
API = "6f1c2d3e-0000-4000-8000-00000000abcd"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> SignInSettings:
    base = {
        "ENVIRONMENT": "test",
        "AzureWebJobsStorage": AZURITE,
        "DATA_STORAGE_EU": AZURITE,
        "MEETING_PROVIDER": "local",
        "SMS_PROVIDER": "outbox",
        "SECRETS_PROVIDER": "env",
        "PUBLIC_BASE_URL": "https://connector.contoso.org",
        "PORTAL_API_AUDIENCE": API,
        "PORTAL_ALLOWED_TENANTS": "",
        "PORTAL_CLIENT_ID": "",
        "LOCAL_ISSUER_URL": "",
        "ENTRA_AUTHORITY": "https://login.microsoftonline.com",  # the default, whatever the session's app uses
    }
    for name, value in {**base, **values}.items():
        monkeypatch.setenv(name, value)
    return SignInSettings()  # read from the environment


def config(monkeypatch: pytest.MonkeyPatch, **values: str) -> dict[str, Any]:
    return sign_in_config(settings(monkeypatch, **values)).model_dump()


def test_entra_sign_in_asks_for_the_api_scope_of_its_client_id(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config(monkeypatch) == {
        "method": "entra",
        "environment": "test",
        "local_issuer": None,
        "authority": "https://login.microsoftonline.com/organizations",
        "client_id": API,
        "scopes": [f"api://{API}/.default"],
    }
    assert config(monkeypatch, PORTAL_API_AUDIENCE=f"api://{API}")["scopes"] == [f"api://{API}/.default"]


def test_one_allowed_tenant_signs_in_there_and_the_spa_may_have_its_own_registration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = config(monkeypatch, PORTAL_ALLOWED_TENANTS=TENANT, PORTAL_CLIENT_ID="spa-client")
    assert found["authority"] == f"https://login.microsoftonline.com/{TENANT}"
    assert found["client_id"] == "spa-client"
    assert config(monkeypatch, PORTAL_ALLOWED_TENANTS=f"{TENANT},{API}")["authority"].endswith("/organizations")


def test_the_local_issuer_is_offered_only_in_local_runs_where_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    local = config(monkeypatch, ENVIRONMENT="local", LOCAL_ISSUER_URL="http://localhost:7073/")
    assert (local["method"], local["local_issuer"], local["scopes"]) == ("local", "http://localhost:7073", [])
    assert config(monkeypatch, ENVIRONMENT="local")["method"] == "entra"  # no local issuer: Entra ID
