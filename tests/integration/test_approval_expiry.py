"""The approval sign-in's state lives ten minutes and is good once (service level, with an injected clock)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from dev.fakes.sandbox_ehr import SandboxEhr
from shared.auth.principal import Principal, Role
from shared.core.settings import Geography, Settings
from shared.runtime import Runtime
from shared.setup.approval import SignInFailed
from shared.setup.models import EndpointStatus, FhirEndpointCreate, OrganisationCreate
from tests.conftest import CLIENT_ID
from tests.support.clock import FakeClock


def test_state_expires_after_ten_minutes_and_is_single_use(settings: Settings, sandbox: SandboxEhr) -> None:
    clock = FakeClock(datetime.now(UTC))
    runtime = Runtime(settings, clock=clock)
    sandbox.register_client(CLIENT_ID, f"{settings.public_base}/api/portal/approval/callback")
    tenant = str(uuid.uuid4())
    admin = Principal(tenant, "admin-oid", "admin@x.org", frozenset({Role.ADMIN}))
    approver = Principal(tenant, "approver-oid", "analyst@x.org", frozenset({Role.APPROVER}))
    runtime.setup.organisations.create(admin, OrganisationCreate(display_name="X", geography=Geography.EU))
    endpoint = runtime.setup.endpoints.create(
        admin,
        FhirEndpointCreate(
            base_url=sandbox.fhir_base, environment="prod", approver="analyst@x.org", client_id=CLIENT_ID
        ),
    )
    runtime.setup.endpoints.submit(admin, endpoint.id)

    browser = ""

    def sign_in() -> dict[str, str]:
        nonlocal browser
        begun = runtime.setup.approval.start_sign_in(approver, endpoint.id)
        browser = begun.browser  # the portal's browser keeps it in a cookie
        state = parse_qs(urlsplit(begun.start.authorize_url).query)["state"][0]
        authorize = runtime.setup.approval.begin(state, browser)  # the browser opened our begin URL
        location = httpx.get(authorize.url, follow_redirects=False, timeout=10).headers["Location"]
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    late = sign_in()
    clock.advance(minutes=10, seconds=1)
    with pytest.raises(SignInFailed, match="longer than 10 minutes"):
        runtime.setup.approval.complete_sign_in(
            state=late["state"], code=late["code"], error=None, error_description=None, browser=browser
        )
    with pytest.raises(SignInFailed, match="already used"):
        runtime.setup.approval.complete_sign_in(
            state=late["state"], code=late["code"], error=None, error_description=None, browser=browser
        )

    clock.set(datetime.now(UTC))
    on_time = sign_in()
    clock.advance(minutes=4)  # within the state's 10 minutes and the id_token's 5
    result = runtime.setup.approval.complete_sign_in(
        state=on_time["state"], code=on_time["code"], error=None, error_description=None, browser=browser
    )
    assert result.ehr_user.endswith("Practitioner/E1001")
    assert runtime.setup.endpoints.get(admin, endpoint.id).status == EndpointStatus.VALIDATED
