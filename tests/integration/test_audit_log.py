"""The audit log people read (issue 32 item 5): who by name and e-mail as their sign-in gave them, what in words,
filters by person, action and days, and a CSV of every match; entries written before names were kept still read."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from dev.fakes.sandbox_ehr import SandboxEhr
from shared.runtime import get_runtime
from shared.setup.audit_models import AuditEntry
from shared.setup.tables import AuditRepository
from tests.support.portal import APPROVER, Tenant, approved_endpoint, problem

ADMIN = "admin@northclinic.example"


def _items(tenant: Tenant, **params: str) -> list[dict[str, object]]:
    response = tenant.call("GET", "portal/audit", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_entries_name_the_person_and_say_what_they_did(tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint_id = approved_endpoint(tenant, sandbox)
    assert tenant.call("DELETE", f"portal/endpoints/{endpoint_id}").status_code == 204
    items = _items(tenant)
    by_action = {e["action"]: e for e in items}
    approval = by_action["approve"]
    assert approval["summary"] == f"approved {sandbox.fhir_base} for test"
    assert (approval["name"], approval["email"]) == ("analyst", APPROVER)
    assert (by_action["validate"]["name"], by_action["validate"]["email"]) == ("analyst", APPROVER)
    assert by_action["create"]["email"] == ADMIN and by_action["create"]["name"] == "admin"
    assert items[-1]["summary"] == "set up the organisation"
    assert by_action["submit"]["summary"] == f"submitted {sandbox.fhir_base} for approval"
    # Its subject was kept when it was written: the endpoint has gone, its URL is still named.
    assert by_action["delete"]["summary"] == f"deleted the FHIR endpoint {sandbox.fhir_base}"


def test_filters_by_person_action_and_days(tenant: Tenant, sandbox: SandboxEhr) -> None:
    approved_endpoint(tenant, sandbox)
    assert {e["action"] for e in _items(tenant, person=APPROVER.upper())} == {"validate", "approve"}
    assert {e["email"] for e in _items(tenant, action="create")} == {ADMIN}
    assert [e["action"] for e in _items(tenant, action="create")] == ["create", "create"]
    today = datetime.now(UTC).date()  # the organisation's time zone is UTC
    around = {"start": str(today - timedelta(days=1)), "end": str(today + timedelta(days=1))}
    assert len(_items(tenant, **around)) == len(_items(tenant))
    assert _items(tenant, start=str(today + timedelta(days=1))) == []
    assert _items(tenant, end=str(today - timedelta(days=1))) == []
    problem(tenant.call("GET", "portal/audit", params={"start": str(today), "end": str(today - timedelta(1))}), 422)
    bad = problem(tenant.call("GET", "portal/audit", params={"action": "explode"}), 400)
    assert "action" in str(bad)
    problem(tenant.as_approver("GET", "portal/audit"), 403)


def test_csv_export_has_every_match_with_offsets(tenant: Tenant, sandbox: SandboxEhr) -> None:
    approved_endpoint(tenant, sandbox)
    response = tenant.call("GET", "portal/audit", params={"format": "csv", "action": "approve"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert 'filename="audit-log.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    assert rows[0]["summary"] == f"approved {sandbox.fhir_base} for test" and rows[0]["email"] == APPROVER
    assert datetime.fromisoformat(rows[0]["at"]).utcoffset() == timedelta(0)


def test_entries_from_before_names_were_kept_still_read(tenant: Tenant) -> None:
    # As 0.1.0 wrote them: no name, e-mail or subject; the endpoint is named by its ID when it has gone.
    at = datetime(2026, 1, 5, 10, tzinfo=UTC)
    old = AuditEntry(
        tenant_id=tenant.id,
        id=f"{10**19 - int(at.timestamp() * 1_000_000):020d}-da925d38",  # its key, as audit.py makes it
        at=at,
        user_id="682adc11-2743-58c0-a33a-5e9c63ef35be",
        action="update",
        entity="writeback_settings",
        entity_id="477eb76b177f4075",
        fields=["adapter"],
    )
    get_runtime().platform.tables.control(AuditRepository).create(old)
    entry = _items(tenant, person=old.user_id)[0]
    assert entry["name"] is None and entry["email"] is None and entry["user_id"] == old.user_id
    assert entry["summary"] == "changed the EHR writeback settings of FHIR endpoint 477eb76b177f4075 (adapter)"
    assert [e["id"] for e in _items(tenant, start="2026-01-05", end="2026-01-05")] == [old.id]
