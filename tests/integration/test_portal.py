"""The portal API over HTTP: the real function app on the dev host, real Azurite, the sandbox EHR and the
local issuer. Each test works in a tenant of its own."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiohttp import web

from dev.fakes.identity import LocalIssuer
from dev.fakes.sandbox_ehr import SandboxEhr
from dev.host.serving import ServerThread
from shared.smart.discovery import OAUTH_URIS
from tests.conftest import AUDIENCE, CLIENT_ID
from tests.support.portal import (
    ADMIN_ROLES,
    APPROVER,
    APPROVER_ROLES,
    Tenant,
    create_endpoint,
    ehr_sign_in,
    endpoint_body,
    new_tenant,
    pending_endpoint,
    problem,
)


def test_whole_approval_flow(tenant: Tenant, sandbox: SandboxEhr) -> None:
    created = create_endpoint(tenant, sandbox)
    assert created["base_url"] == sandbox.fhir_base  # normalised: no trailing slash
    assert created["approver"] == APPROVER
    assert created["status"] == "draft"
    assert created["discovery_source"] == "smart-configuration"
    assert created["token_endpoint"] == f"{sandbox.url}/oauth2/token"
    endpoint_id = created["id"]

    submitted = tenant.call("POST", f"portal/endpoints/{endpoint_id}/submit")
    assert submitted.json()["status"] == "pending_approval"
    problem(tenant.as_approver("POST", f"portal/endpoints/{endpoint_id}/approve"), 409)  # no EHR sign-in yet

    started = tenant.as_approver("POST", f"portal/endpoints/{endpoint_id}/sign-in")
    # The approver's browser: bound to the sign-in by the start's cookie.
    assert "HttpOnly" in started.headers["Set-Cookie"] and "SameSite=Lax" in started.headers["Set-Cookie"]
    start = started.json()
    begin = tenant.http.get(start["authorize_url"])
    assert begin.status_code == 302
    query = parse_qs(urlsplit(begin.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["aud"] == [sandbox.fhir_base]
    assert query["scope"] == ["openid fhirUser"]
    assert len(query["state"][0]) >= 32 and query["nonce"]
    with httpx.Client(base_url=str(tenant.http.base_url)) as elsewhere:  # a second browser cannot take it over
        assert elsewhere.get(start["authorize_url"]).status_code == 422
    authorize = httpx.get(begin.headers["Location"], follow_redirects=False, timeout=10)
    callback = tenant.http.get(authorize.headers["Location"])
    assert callback.status_code == 302
    assert callback.headers["Location"].endswith(f"/#/endpoints/{endpoint_id}?signin=ok")

    validated = tenant.call("GET", f"portal/endpoints/{endpoint_id}").json()
    assert validated["status"] == "validated"
    assert validated["validated_ehr_user"] == f"{sandbox.fhir_base}/Practitioner/E1001"
    problem(tenant.call("GET", f"portal/endpoints/{endpoint_id}/integration-records"), 409)

    approved = tenant.as_approver("POST", f"portal/endpoints/{endpoint_id}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    records = tenant.call("GET", f"portal/endpoints/{endpoint_id}/integration-records").json()
    by_kind = {r["kind"]: {v["name"]: v["value"] for v in r["values"]} for r in records["records"]}
    public = str(tenant.http.base_url).rstrip("/")
    assert list(by_kind) == [
        "provider_launch",
        "patient_launch",
        "sms_direct",
        "sms_configuration",
        "device_test",
        "lost_link",
    ]
    # The visit's identifiers come back with the token (the URL carries none: anyone can edit it).
    assert by_kind["provider_launch"]["Launch URL"] == f"{public}/api/launch/provider"
    assert by_kind["provider_launch"]["Token response parameters"] == (
        "csn=%CSN%; conferenceId=%CONFERENCEID%; departmentId=%PERFDEPID;;; ; ;;NONE;%; launchRecord=provider"
    )
    assert by_kind["provider_launch"]["Client ID"] == CLIENT_ID
    assert by_kind["provider_launch"]["Redirect URI"] == f"{public}/api/launch/callback"
    assert by_kind["provider_launch"]["Client authentication"] == "none (public client with PKCE)"
    assert by_kind["patient_launch"]["Launch URL"] == f"{public}/api/launch/patient"
    assert by_kind["patient_launch"]["Token response parameters"] == (
        "csn=%CSN%; conferenceId=%CONFERENCEID%; launchRecord=patient"
    )
    assert by_kind["sms_configuration"]["HL7 endpoint"] == f"{public}/api/hl7/{endpoint_id}"
    assert by_kind["sms_configuration"]["Certificate environment"] == "test"
    assert by_kind["device_test"]["Launch URL"] == f"{public}/api/device-test"

    audit = tenant.call("GET", "portal/audit").json()
    assert [(e["action"], e["entity"]) for e in audit["items"]] == [
        ("approve", "fhir_endpoint"),
        ("validate", "fhir_endpoint"),
        ("submit", "fhir_endpoint"),
        ("create", "fhir_endpoint"),
        ("create", "organisation"),
    ]
    assert "status" in audit["items"][0]["fields"]


def test_audit_log_pages_newest_first(tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint_id = create_endpoint(tenant, sandbox)["id"]
    for index in range(3):
        tenant.call("PATCH", f"portal/endpoints/{endpoint_id}", json={"display_name": f"name {index}"})
    seen: list[str] = []
    continuation = None
    while True:
        params: dict[str, str] = {"continuation": continuation} if continuation else {}
        page = tenant.call("GET", "portal/audit", params=params).json()
        seen += [e["action"] for e in page["items"]]
        continuation = page["continuation"]
        if not continuation:
            break
    assert seen == ["update", "update", "update", "create", "create"]
    problem(tenant.as_approver("GET", "portal/audit"), 403)


def test_calls_need_a_valid_token(tenant: Tenant, http: httpx.Client, identity: LocalIssuer) -> None:
    problem(http.get("/api/portal/endpoints"), 401)
    problem(http.get("/api/portal/endpoints", headers={"Authorization": "Bearer not-a-jwt"}), 401)
    wrong_audience = tenant.token("admin@northclinic.example", ADMIN_ROLES, audience="api://someone-else")
    assert "another application" in problem(tenant.call("GET", "portal/endpoints", token=wrong_audience), 401)["detail"]
    expired = tenant.token("admin@northclinic.example", ADMIN_ROLES, issued_at=1_700_000_000, expires_in=60)
    assert "expired" in problem(tenant.call("GET", "portal/endpoints", token=expired), 401)["detail"]
    stranger = LocalIssuer(audience=AUDIENCE)  # same claims, but a key and issuer we do not trust
    stranger.url = identity.url
    forged = stranger.mint(username="admin@northclinic.example", roles=ADMIN_ROLES, tenant_id=tenant.id)
    problem(tenant.call("GET", "portal/endpoints", token=forged), 401)


def test_wrong_role_is_403(tenant: Tenant, sandbox: SandboxEhr) -> None:
    body = problem(tenant.as_approver("POST", "portal/endpoints", json=endpoint_body(sandbox)), 403)
    assert "Connector.Admin" in body["detail"]
    problem(tenant.call("GET", "portal/endpoints", roles=[]), 403)


def test_other_tenant_sees_nothing_of_ours(
    tenant: Tenant, sandbox: SandboxEhr, http: httpx.Client, identity: LocalIssuer
) -> None:
    endpoint_id = create_endpoint(tenant, sandbox)["id"]
    other = new_tenant(http, identity)
    other.call("POST", "portal/organisation", json={"display_name": "Other Health", "geography": "US"})
    problem(other.call("GET", f"portal/endpoints/{endpoint_id}"), 404)
    problem(other.call("PATCH", f"portal/endpoints/{endpoint_id}", json={"display_name": "x"}), 404)
    problem(other.call("DELETE", f"portal/endpoints/{endpoint_id}"), 404)
    problem(other.call("GET", f"portal/endpoints/{endpoint_id}/integration-records"), 404)
    assert other.call("GET", "portal/endpoints").json() == {"items": []}
    assert other.call("GET", "portal/organisation").json()["display_name"] == "Other Health"
    assert tenant.call("GET", f"portal/endpoints/{endpoint_id}").status_code == 200


def test_only_the_named_approver_signs_in_and_decides(tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint_id = pending_endpoint(tenant, sandbox)
    someone = tenant.token("other.analyst@northclinic.example", APPROVER_ROLES)
    assert (
        "analyst@northclinic.example"
        in problem(tenant.call("POST", f"portal/endpoints/{endpoint_id}/sign-in", token=someone), 403)["detail"]
    )
    problem(tenant.call("POST", f"portal/endpoints/{endpoint_id}/approve", token=someone), 403)
    problem(tenant.call("POST", f"portal/endpoints/{endpoint_id}/reject", json={"comment": "no"}, token=someone), 403)
    # The admin is not the approver either.
    problem(tenant.call("POST", f"portal/endpoints/{endpoint_id}/approve"), 403)


def test_reused_state_is_rejected(tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint_id = pending_endpoint(tenant, sandbox)
    first, callback_url = ehr_sign_in(tenant, endpoint_id)
    assert first.status_code == 302
    again = tenant.http.get(callback_url)
    assert again.status_code == 422
    assert again.headers["Content-Type"].startswith("text/html")
    assert "already used" in again.text
    unknown = tenant.http.get("/api/portal/approval/callback", params={"state": "forged", "code": "x"})
    assert unknown.status_code == 400 and "Start the EHR sign-in again" in unknown.text
    forged = tenant.http.get("/api/portal/approval/callback", params={"state": "f" * 43, "code": "x"})
    assert forged.status_code == 422 and "start the EHR sign-in again" in forged.text


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"aud": "someone-else"}, "another application"),
        ({"nonce": "replayed"}, "nonce mismatch"),
        ({"aud": [CLIENT_ID, "another-client"]}, "issued to another party"),  # several audiences, no azp
        ({"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}, "issued to another party"),
    ],
)
def test_id_token_with_wrong_audience_or_nonce_is_rejected(
    tenant: Tenant, sandbox: SandboxEhr, override: dict[str, object], message: str
) -> None:
    endpoint_id = pending_endpoint(tenant, sandbox)
    sandbox.id_token_overrides = override
    callback, _ = ehr_sign_in(tenant, endpoint_id)
    assert callback.status_code == 422
    assert message in callback.text
    endpoint = tenant.call("GET", f"portal/endpoints/{endpoint_id}").json()
    assert endpoint["status"] == "pending_approval" and endpoint["validated_ehr_user"] is None


def test_an_id_token_for_several_audiences_is_accepted_when_we_are_its_authorized_party(
    tenant: Tenant, sandbox: SandboxEhr
) -> None:
    endpoint_id = pending_endpoint(tenant, sandbox)
    sandbox.id_token_overrides = {"aud": [CLIENT_ID, "another-client"], "azp": CLIENT_ID}
    callback, _ = ehr_sign_in(tenant, endpoint_id)
    assert callback.status_code == 302
    assert tenant.call("GET", f"portal/endpoints/{endpoint_id}").json()["status"] == "validated"


def test_ehr_refusal_is_explained(tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint_id = pending_endpoint(tenant, sandbox)
    start = tenant.as_approver("POST", f"portal/endpoints/{endpoint_id}/sign-in").json()
    state = parse_qs(urlsplit(start["authorize_url"]).query)["state"][0]
    assert tenant.http.get(start["authorize_url"]).status_code == 302  # this browser began it
    page = tenant.http.get(
        "/api/portal/approval/callback", params={"state": state, "error": "access_denied", "error_description": "<b>"}
    )
    assert page.status_code == 422
    assert "access_denied" in page.text and "<b>" not in page.text
    assert "Back to the FHIR endpoints in the portal" in page.text  # no dead end


def test_base_url_without_discovery_is_a_clear_422(tenant: Tenant, sandbox: SandboxEhr) -> None:
    body = problem(
        tenant.call("POST", "portal/endpoints", json=endpoint_body(sandbox, base_url=f"{sandbox.url}/nothing")), 422
    )
    assert "not a SMART endpoint" in body["detail"] and "404" not in body["detail"]  # no port-scan oracle
    assert body["errors"] == [{"field": "base_url", "message": "not a SMART endpoint"}]
    assert tenant.call("GET", "portal/endpoints").json() == {"items": []}


def test_metadata_fallback_for_older_servers(tenant: Tenant, sandbox: SandboxEhr) -> None:
    created = create_endpoint(tenant, sandbox, base_url=sandbox.legacy_fhir_base)
    assert created["discovery_source"] == "metadata"
    assert created["authorization_endpoint"] == f"{sandbox.url}/oauth2/authorize"


def test_same_url_twice_is_409_and_freed_by_delete(tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint_id = create_endpoint(tenant, sandbox)["id"]
    problem(tenant.call("POST", "portal/endpoints", json=endpoint_body(sandbox, base_url=sandbox.fhir_base)), 409)
    assert tenant.call("DELETE", f"portal/endpoints/{endpoint_id}").status_code == 204
    create_endpoint(tenant, sandbox)


def test_edited_approved_endpoint_goes_back_to_pending(tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint_id = pending_endpoint(tenant, sandbox)
    assert ehr_sign_in(tenant, endpoint_id)[0].status_code == 302
    assert tenant.as_approver("POST", f"portal/endpoints/{endpoint_id}/approve").json()["status"] == "approved"
    renamed = tenant.call("PATCH", f"portal/endpoints/{endpoint_id}", json={"display_name": "Video visits"})
    assert renamed.json()["status"] == "approved"  # cosmetic
    edited = tenant.call("PATCH", f"portal/endpoints/{endpoint_id}", json={"time_zone": "America/New_York"})
    assert edited.status_code == 200
    assert edited.json()["status"] == "pending_approval"
    assert edited.json()["validated_ehr_user"] is None
    problem(tenant.call("GET", f"portal/endpoints/{endpoint_id}/integration-records"), 409)
    problem(tenant.as_approver("POST", f"portal/endpoints/{endpoint_id}/approve"), 409)


def test_rejection_records_the_comment(tenant: Tenant, sandbox: SandboxEhr) -> None:
    endpoint_id = pending_endpoint(tenant, sandbox)
    problem(tenant.as_approver("POST", f"portal/endpoints/{endpoint_id}/reject", json={"comment": ""}), 400)
    rejected = tenant.as_approver(
        "POST", f"portal/endpoints/{endpoint_id}/reject", json={"comment": "Use the production URL"}
    ).json()
    assert rejected["status"] == "rejected" and rejected["decision_comment"] == "Use the production URL"
    problem(tenant.as_approver("POST", f"portal/endpoints/{endpoint_id}/sign-in"), 409)


def test_bad_bodies_get_problem_details(tenant: Tenant, sandbox: SandboxEhr) -> None:
    body = problem(
        tenant.call(
            "POST",
            "portal/endpoints",
            json=endpoint_body(sandbox, base_url="ftp://x", approver="nobody", time_zone="Mars/Base", extra=1),
        ),
        400,
    )
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"base_url", "approver", "time_zone", "extra"}
    # The schema's pattern refuses ftp: a 400 (a well-formed URL the connector cannot use is a 422).
    ftp = problem(tenant.call("POST", "portal/endpoints", json=endpoint_body(sandbox, base_url="ftp://x")), 400)
    assert [e["field"] for e in ftp["errors"]] == ["base_url"]
    problem(tenant.call("POST", "portal/endpoints", content=b"{", headers={"Content-Type": "application/json"}), 400)
    problem(tenant.call("POST", "portal/endpoints", content=b"x=1", headers={"Content-Type": "text/plain"}), 415)
    huge = b'{"base_url": "' + b"a" * (1024 * 1024) + b'"}'
    problem(tenant.call("POST", "portal/endpoints", content=huge, headers={"Content-Type": "application/json"}), 413)


def test_organisation_is_set_up_once_in_an_enabled_geography(http: httpx.Client, identity: LocalIssuer) -> None:
    tenant = new_tenant(http, identity)
    problem(tenant.call("GET", "portal/organisation"), 404)
    problem(tenant.call("POST", "portal/endpoints", json={}), 400)
    body = {"display_name": "South", "geography": "APAC", "time_zone": "Australia/Sydney"}
    created = tenant.call("POST", "portal/organisation", json=body)
    assert created.status_code == 201 and created.json()["geography"] == "APAC"
    problem(tenant.call("POST", "portal/organisation", json=body), 409)
    problem(tenant.as_approver("POST", "portal/organisation", json=body), 403)


def test_every_portal_route_is_in_the_openapi_document(http: httpx.Client) -> None:
    from functions import portal
    from functions.portal.router import all_routes

    document = http.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    declared = {(r.openapi_path, r.method.lower()) for r in all_routes()}
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert declared == documented
    # The host sees the router's catch-alls and the document; every route's path is under one of them.
    registered = {
        builder._function.get_function_name(): getattr(builder._function.get_trigger(), "route", None)
        for builder in portal.bp._function_builders
    }
    assert registered == {"portal_api": "portal/{*rest}", "visits_api": "visits/{*rest}", "openapi": "openapi.json"}
    assert all(r.route.startswith(("portal/", "visits/")) for r in all_routes())
    assert {"/api/portal/reports/visits", "/api/portal/writebacks/failed", "/api/portal/sign-in"} <= set(
        document["paths"]
    )
    schemas = document["components"]["schemas"]
    assert {"FhirEndpointCreate", "FhirEndpointPublic", "ProblemDetails", "IntegrationRecords"} <= set(schemas)
    create = document["paths"]["/api/portal/endpoints"]["post"]
    assert set(create["responses"]) >= {"201", "400", "401", "403", "409", "413", "415"}


def test_a_base_url_at_the_cloud_metadata_address_is_refused_without_a_request(
    tenant: Tenant, sandbox: SandboxEhr
) -> None:
    """Even in a local run, where the sandbox EHR is on loopback: link-local and metadata are never called."""
    body = endpoint_body(sandbox, base_url="http://169.254.169.254/metadata/fhir")
    answer = problem(tenant.call("POST", "portal/endpoints", json=body), 422)
    assert answer["errors"] == [{"field": "base_url", "message": "not a SMART endpoint"}]


@pytest.mark.parametrize(
    "rest",
    [
        [{"security": ["not", "an", "object"]}],
        [{"security": {"extension": "not a list"}}],
        [{"security": {"extension": [{"url": OAUTH_URIS, "extension": [1, "x"]}]}}],
        "not a list",
        [{"security": {"extension": [["nested"]]}}],
    ],
)
def test_a_malformed_capability_statement_is_a_422(tenant: Tenant, rest: object) -> None:
    async def metadata(request: web.Request) -> web.Response:
        return web.json_response({"resourceType": "CapabilityStatement", "rest": rest})

    async def nothing(request: web.Request) -> web.Response:
        return web.json_response({"capabilities": 5, "code_challenge_methods_supported": "S256"})

    app = web.Application()
    app.router.add_get("/fhir/metadata", metadata)
    app.router.add_get("/fhir/.well-known/smart-configuration", nothing)
    with ServerThread(app) as odd:
        body = {"base_url": f"{odd.url}/fhir", "client_id": "x", "approver": "a@x.org", "environment": "test"}
        answer = problem(tenant.call("POST", "portal/endpoints", json=body), 422)
    assert answer["errors"] == [{"field": "base_url", "message": "not a SMART endpoint"}]


def test_the_router_answers_problem_json_404_and_405_with_allow(tenant: Tenant) -> None:
    wrong_method = tenant.call("PUT", "portal/audit")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "GET"
    assert wrong_method.headers["Content-Type"].startswith("application/problem+json")
    both = tenant.call("POST", "portal/endpoints/0123456789abcdef")
    assert both.status_code == 405 and both.headers["Allow"] == "DELETE, GET, PATCH"
    for path in ("portal/nothing-here", "portal/endpoints/a%0Ab/nothing", "visits/x"):
        missing = tenant.call("GET", path)
        assert missing.status_code == 404, path
        assert missing.json()["status"] == 404 and missing.headers["Content-Type"].startswith(
            "application/problem+json"
        )
    bad_id = problem(tenant.call("GET", "portal/endpoints/not-an-id"), 400)
    assert [e["field"] for e in bad_id["errors"]] == ["endpoint_id"]
