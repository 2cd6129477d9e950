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
    preview = items["cancelled"].pop("preview")  # one of the longest renderings
    assert len(preview) == len(longest) and preview.startswith("North Clinic: your video visit on ")
    assert items["cancelled"] == {"encoding": "GSM-7", "characters": len(longest), "segments": 1}
    assert (items["scheduled"]["encoding"], items["scheduled"]["segments"]) == ("GSM-7", 2)  # the join link is long
    reminder = items["reminder"]
    assert reminder["encoding"] == "UCS-2" and reminder["segments"] == -(-reminder["characters"] // 67) > 2  # "Ú"


def test_each_locales_wording_is_previewed_in_that_language(tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint = pending_endpoint(tenant, sandbox)
    path = f"portal/endpoints/{endpoint}/sms-settings/lengths"
    own = "{clinic}: le esperamos el {date} a las {time}: {link}"
    body = {"clinic_name": "North Clinic", "locale": "es_US", "templates": {"reminder": own}}
    items = tenant.call("POST", path, json=body).json()["items"]
    # Left out: the shipped Spanish, with the date and time as es_US writes them (in the endpoint's zone).
    cancelled = items["cancelled"]["preview"]
    assert cancelled.startswith("North Clinic: su consulta por video del ") and "fue cancelada" in cancelled
    assert " p.m. C" in cancelled and items["cancelled"]["encoding"] == "UCS-2"  # "más"
    assert (
        items["reminder"]["preview"].startswith("North Clinic: le esperamos el ")
        and "/api/join#" in cancelled + (items["reminder"]["preview"])
    )
    english = tenant.call("POST", path, json={"clinic_name": "North Clinic"}).json()["items"]
    assert english["reminder"]["preview"].startswith("North Clinic: reminder, your video visit is on ")
    problem(tenant.call("POST", path, json=body | {"locale": "fr_FR"}), 400)


def test_only_the_organisations_admins_measure_its_templates(tenant: Tenant, sandbox: SandboxEhr) -> None:
    other_tenant = organisation(new_tenant(tenant.http, tenant.identity))
    endpoint = pending_endpoint(tenant, sandbox)
    path = f"portal/endpoints/{endpoint}/sms-settings/lengths"
    problem(tenant.as_approver("POST", path, json={"clinic_name": "North Clinic"}), 403)
    problem(other_tenant.call("POST", path, json={"clinic_name": "North Clinic"}), 404)
    problem(tenant.call("POST", path, json={"clinic_name": ""}), 400)
