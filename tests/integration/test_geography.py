"""Data-plane rows land in the storage account of the organisation's geography, and only there."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableServiceClient

from shared.core.errors import ConfigurationError
from shared.core.settings import Geography
from shared.runtime import Runtime
from shared.setup.models import Organisation
from shared.setup.tables import OrganisationRepository
from shared.visits.models import EhrUser
from shared.visits.tables import EhrUserRepository

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def rows(connection_string: str, table: str) -> list[dict[str, object]]:
    client = TableServiceClient.from_connection_string(connection_string).get_table_client(table)
    try:
        return [dict(entity) for entity in client.list_entities()]
    except ResourceNotFoundError:
        return []


def test_eu_organisation_data_is_in_the_eu_account_and_absent_from_the_us_one(
    runtime: Runtime, environment: dict[str, str], table_prefix: str
) -> None:
    eu_org = Organisation(tenant_id="tenant-eu", display_name="Klinikum", geography=Geography.EU, created_at=NOW)
    us_org = Organisation(tenant_id="tenant-us", display_name="Clinic", geography=Geography.US, created_at=NOW)
    organisations = runtime.platform.tables.control(OrganisationRepository)
    organisations.create(eu_org)
    organisations.create(us_org)

    user = EhrUser(endpoint_id="ep1", ehr_user_id="Practitioner/eu-123", last_seen_at=NOW)
    runtime.platform.tables.data(eu_org, EhrUserRepository).create(user)
    runtime.platform.tables.data(us_org, EhrUserRepository).create(
        EhrUser(endpoint_id="ep2", ehr_user_id="Practitioner/us-456", last_seen_at=NOW)
    )

    table = table_prefix + EhrUserRepository.table_name
    eu_rows = rows(environment["DATA_STORAGE_EU"], table)
    us_rows = rows(environment["DATA_STORAGE_US"], table)
    assert [r["ehr_user_id"] for r in eu_rows] == ["Practitioner/eu-123"]
    assert [r["ehr_user_id"] for r in us_rows] == ["Practitioner/us-456"]
    assert rows(environment["DATA_STORAGE_APAC"], table) == []
    assert rows(environment["AzureWebJobsStorage"], table) == []  # nor in the control-plane account

    # The organisations themselves are control-plane rows in the app's account.
    org_rows = rows(environment["AzureWebJobsStorage"], table_prefix + OrganisationRepository.table_name)
    assert sorted(str(r["tenant_id"]) for r in org_rows) == ["tenant-eu", "tenant-us"]
    assert rows(environment["DATA_STORAGE_EU"], table_prefix + OrganisationRepository.table_name) == []


def test_a_geography_without_an_account_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    monkeypatch.setenv("DATA_STORAGE_APAC", "")
    from shared.core.settings import load_settings

    runtime = Runtime(load_settings())
    apac = Organisation(tenant_id="t", display_name="APAC Health", geography=Geography.APAC, created_at=NOW)
    with pytest.raises(ConfigurationError, match="DATA_STORAGE_APAC"):
        runtime.platform.tables.data(apac, EhrUserRepository)
