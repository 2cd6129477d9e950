"""Organisation settings can be changed (issue 32 item 9): display name, time zone, SMS country (within the
deployment's SMS_COUNTRIES) and the patients' default locale, by an admin or by the approver (the organisation's EHR
analyst), audited; the geography moves only while no FHIR endpoint exists. The approver reads the integration
records as an admin does; anyone else is refused."""

from __future__ import annotations

from dev.fakes.sandbox_ehr import SandboxEhr
from dev.host.serving import ServerThread
from tests.conftest import serve_ehr
from tests.support.portal import APPROVER, Tenant, approved_endpoint, create_endpoint, problem


def test_an_admin_changes_the_settings_and_it_is_audited(tenant: Tenant) -> None:
    assert tenant.call("GET", "portal/organisation").json()["default_locale"] == "en_US"
    changes = {"display_name": "North Clinic East", "time_zone": "America/Chicago", "default_locale": "es_US"}
    response = tenant.call("PATCH", "portal/organisation", json={**changes, "sms_country": "US"})
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in changes} == changes
    assert {k: tenant.call("GET", "portal/organisation").json()[k] for k in changes} == changes
    entry = tenant.call("GET", "portal/audit").json()["items"][0]
    assert (entry["action"], entry["entity"]) == ("update", "organisation")
    assert entry["fields"] == ["default_locale", "display_name", "time_zone"]  # the SMS country did not change
    assert entry["summary"] == "changed the organisation's settings (default locale, display name, time zone)"


def test_the_approver_changes_the_settings_as_an_admin_can(tenant: Tenant) -> None:
    response = tenant.as_approver("PATCH", "portal/organisation", json={"time_zone": "America/New_York"})
    assert response.status_code == 200, response.text
    assert tenant.as_approver("GET", "portal/organisation").json()["time_zone"] == "America/New_York"
    assert tenant.call("GET", "portal/audit").json()["items"][0]["email"] == APPROVER
    nobody = tenant.call("PATCH", "portal/organisation", roles=[], json={"time_zone": "UTC"})
    problem(nobody, 403)


def test_bad_settings_are_refused_with_their_reason(tenant: Tenant) -> None:
    country = problem(tenant.call("PATCH", "portal/organisation", json={"sms_country": "CA"}), 422)
    assert "SMS_COUNTRIES" in country["detail"] and country["errors"][0]["field"] == "sms_country"
    problem(tenant.call("PATCH", "portal/organisation", json={"default_locale": "fr_FR"}), 400)
    problem(tenant.call("PATCH", "portal/organisation", json={"time_zone": "Mars/Olympus"}), 400)
    problem(tenant.call("PATCH", "portal/organisation", json={"display_name": ""}), 400)
    problem(tenant.call("PATCH", "portal/organisation", json={"tenant_id": "someone-else"}), 400)


def test_the_geography_moves_only_while_no_endpoint_exists(tenant: Tenant, sandbox: SandboxEhr) -> None:
    moved = tenant.call("PATCH", "portal/organisation", json={"geography": "US"})
    assert moved.status_code == 200 and moved.json()["geography"] == "US", moved.text
    endpoint_id = approved_endpoint(tenant, sandbox)
    refused = problem(tenant.call("PATCH", "portal/organisation", json={"geography": "EU"}), 409)
    assert "cannot move once FHIR endpoints exist" in refused["detail"]
    assert tenant.call("GET", "portal/organisation").json()["geography"] == "US"
    problem(tenant.as_approver("PATCH", "portal/organisation", json={"geography": "EU"}), 409)

    # The approver reads the integration records as an admin does; a signed-in person with neither role cannot.
    for caller in (tenant.call, tenant.as_approver):
        assert caller("GET", f"portal/endpoints/{endpoint_id}/integration-records").status_code == 200
    problem(tenant.call("GET", f"portal/endpoints/{endpoint_id}/integration-records", roles=[]), 403)


def test_a_new_endpoint_speaks_the_organisations_default_language_unless_told_otherwise(
    tenant: Tenant, sandbox: SandboxEhr, app_host: ServerThread
) -> None:
    assert tenant.call("PATCH", "portal/organisation", json={"default_locale": "es_US"}).status_code == 200
    assert create_endpoint(tenant, sandbox)["patient_locale"] == "es_US"  # none given: the organisation's
    with serve_ehr(app_host.url) as other:
        assert create_endpoint(tenant, other, patient_locale="en_US")["patient_locale"] == "en_US"
