"""The template editor's question: what each text costs at most (its longest rendering's encoding and segments)."""

from __future__ import annotations

from dev.fakes.sandbox_ehr import SandboxEhr
from tests.support.portal import Tenant, new_tenant, organisation, pending_endpoint, problem


def test_each_template_is_measured_at_its_longest(tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint = pending_endpoint(tenant, sandbox)  # America/Chicago; the organisation texts the US: en_US
    spanish = "{clinic}: su cita por video es el {date} a las {time}. Únase aquí: {link}"
    body = {"clinic_name": "North Clinic", "templates": {"reminder": spanish}}
    answer = tenant.call("POST", f"portal/endpoints/{endpoint}/sms-settings/lengths", json=body)
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    longest = "North Clinic: your video visit on Wed, Sep 30 at 10:59 PM CDT was cancelled. Reply STOP to opt out."
    assert items["cancelled"] == {"encoding": "GSM-7", "characters": len(longest), "segments": 1}
    assert (items["scheduled"]["encoding"], items["scheduled"]["segments"]) == ("GSM-7", 2)  # the join link is long
    reminder = items["reminder"]
    assert reminder["encoding"] == "UCS-2" and reminder["segments"] == -(-reminder["characters"] // 67) > 2  # "Ú"


def test_only_the_organisations_admins_measure_its_templates(tenant: Tenant, sandbox: SandboxEhr) -> None:
    other_tenant = organisation(new_tenant(tenant.http, tenant.identity))
    endpoint = pending_endpoint(tenant, sandbox)
    path = f"portal/endpoints/{endpoint}/sms-settings/lengths"
    problem(tenant.as_approver("POST", path, json={"clinic_name": "North Clinic"}), 403)
    problem(other_tenant.call("POST", path, json={"clinic_name": "North Clinic"}), 404)
    problem(tenant.call("POST", path, json={"clinic_name": ""}), 400)
