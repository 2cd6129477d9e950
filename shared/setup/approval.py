r"""Approval: the named approver proves the FHIR base URL and their EHR access by signing in to the EHR (a SMART
standalone launch), then approves or rejects.

pending_approval --EHR sign-in--> validated --approve--> approved
         \________________________________\--reject--> rejected
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.core.errors import Conflict, DomainError, Forbidden
from shared.setup.audit import AuditLog
from shared.setup.endpoints import EndpointService
from shared.setup.models import EndpointStatus, FhirEndpoint, SignInStart
from shared.setup.tables import FhirEndpointRepository
from shared.setup.url_owners import UrlOwners
from shared.smart.client import AuthorizeRedirect, AuthorizeRequest, SmartClient
from shared.smart.discovery import SmartDiscovery
from shared.smart.pkce import challenge
from shared.smart.states import LaunchStates, StateRejected

SIGN_IN_SCOPE = "openid fhirUser"


SIGN_IN_STATUSES = {EndpointStatus.PENDING_APPROVAL, EndpointStatus.VALIDATED}


class SignInFailed(DomainError):
    """The EHR sign-in did not complete; shown to the approver on a page, with what to do next."""

    title = "The EHR sign-in did not complete"


@dataclass(frozen=True)
class SignInBegun:
    """The portal's answer, and the secret its browser keeps in a cookie (the only browser the sign-in works in)."""

    start: SignInStart
    state: str
    browser: str


@dataclass(frozen=True)
class SignInResult:
    tenant_id: str
    endpoint_id: str
    ehr_user: str


@dataclass(kw_only=True, eq=False)
class ApprovalService:
    endpoints: EndpointService
    endpoint_rows: FhirEndpointRepository
    states: LaunchStates
    discovery: SmartDiscovery
    smart: SmartClient
    audit: AuditLog
    clock: Clock
    redirect_uri: str
    owners: UrlOwners

    def _as_approver(self, principal: Principal, endpoint: FhirEndpoint) -> None:
        principal.require(Role.APPROVER)
        if principal.username != endpoint.approver:
            raise Forbidden(f"Only the named approver ({endpoint.approver}) can sign in to the EHR and decide.")

    def start_sign_in(self, principal: Principal, endpoint_id: str) -> SignInBegun:
        endpoint = self.endpoints.get(principal, endpoint_id)
        self._as_approver(principal, endpoint)
        if endpoint.status not in SIGN_IN_STATUSES:
            raise Conflict(
                f"The EHR sign-in is for endpoints pending approval; this one is {endpoint.status.value}."
                + (" Submit it for approval first." if endpoint.status == EndpointStatus.DRAFT else "")
            )
        self.owners.check_free(endpoint)
        self.discovery.discover(endpoint.base_url, endpoint.client_id)  # fails now, not in the approver's browser
        # Bound at once to the portal's browser (the answer's cookie), so that the link is useless anywhere else: a
        # phished `authorize_url` opened in another browser, signed in to the EHR as someone else, is refused.
        browser = self.states.new_browser_secret()
        launch = self.states.begin(
            "approval",
            tenant_id=principal.tenant_id,
            endpoint_id=endpoint.id,
            redirect_uri=self.redirect_uri,
            user_id=principal.user_id,
            user_name=principal.name,
            user_email=principal.username,
            browser=browser,
        )
        begin = self.redirect_uri.removesuffix("/callback") + "/begin?" + urlencode({"state": launch.state})
        return SignInBegun(SignInStart(authorize_url=begin, expires_at=launch.expires_at), launch.state, browser)

    def begin(self, state: str | None, browser: str | None) -> AuthorizeRedirect:
        """The EHR's authorize request for an approver's sign-in, from the browser that started it only."""
        again = "start the EHR sign-in again from the portal, in this browser."
        try:
            launch = self.states.peek(state or "", {"approval"}, browser)
        except StateRejected as rejected:
            if rejected.reason == "expired":
                raise SignInFailed(f"This sign-in took longer than 10 minutes; {again}") from None
            if rejected.reason == "browser":
                raise SignInFailed(
                    "This sign-in link works only in the browser where the approver started it from the portal; "
                    f"{again}"
                ) from None
            raise SignInFailed(f"This sign-in was already used, or is unknown; {again}") from None
        endpoint = self.endpoint_rows.find(launch.tenant_id, launch.endpoint_id)
        if endpoint is None or endpoint.status not in SIGN_IN_STATUSES:
            raise SignInFailed("The endpoint changed; open it in the portal and start the EHR sign-in again.")
        request = AuthorizeRequest(
            client_id=endpoint.client_id,
            redirect_uri=self.redirect_uri,
            scope=SIGN_IN_SCOPE,
            state=launch.state,
            aud=endpoint.base_url,
            code_challenge=challenge(launch.verifier),
            nonce=launch.nonce,
        )
        return request.redirect(self.discovery.discover(endpoint.base_url, endpoint.client_id), browser or "")

    def complete_sign_in(
        self,
        *,
        state: str | None,
        code: str | None,
        error: str | None,
        error_description: str | None,
        browser: str | None,
    ) -> SignInResult:
        if not state:
            raise SignInFailed("The EHR sent no sign-in state back; start the EHR sign-in again from the portal.")
        try:
            launch = self.states.consume(state, {"approval"}, browser)
        except StateRejected as rejected:
            again = "start the EHR sign-in again from the portal."
            if rejected.reason == "expired":
                raise SignInFailed(f"This sign-in took longer than 10 minutes; {again}") from None
            if rejected.reason == "browser":
                raise SignInFailed(f"This sign-in was started in another browser; {again}") from None
            raise SignInFailed(f"This sign-in was already used or is unknown; {again}") from None
        if error:
            reason = f"{error}: {error_description}" if error_description else error
            raise SignInFailed(
                f"The EHR refused the sign-in ({reason[:200]}); check the client ID and the client type, then try "
                "again."
            )
        if not code:
            raise SignInFailed("The EHR sent no authorization code; start the EHR sign-in again from the portal.")
        stored = self.endpoint_rows.find(launch.tenant_id, launch.endpoint_id)
        if stored is None or stored.status not in SIGN_IN_STATUSES:
            raise SignInFailed("The endpoint changed while you signed in; open it in the portal and start again.")
        configuration = self.discovery.discover(stored.base_url, stored.client_id)
        try:
            signed_in = self.smart.sign_in(
                configuration, base_url=stored.base_url, client=stored.client, code=code, launch=launch
            )
        except DomainError as failure:
            raise SignInFailed(failure.detail) from None
        ehr_user = signed_in.user
        if ehr_user is None:
            granted = " ".join(sorted(signed_in.tokens.scopes or ())) or "none"
            raise SignInFailed(
                "The EHR did not say who signed in: it granted the scopes " + granted[:200] + ", without an "
                "id_token or fhirUser. Ask the EHR's administrator to allow the openid and fhirUser scopes for the "
                "connector's client, then sign in again."
            )
        versioned = self.endpoint_rows.get_versioned(launch.tenant_id, launch.endpoint_id)
        endpoint = versioned.item
        if endpoint.status not in SIGN_IN_STATUSES or endpoint.base_url != stored.base_url:
            raise SignInFailed("The endpoint changed while you signed in; open it in the portal and start again.")
        now = self.clock.now()
        endpoint = endpoint.model_copy(
            update={
                "status": EndpointStatus.VALIDATED,
                "validated_ehr_user": ehr_user,
                "validated_at": now,
                "updated_at": now,
                "updated_by": launch.user_id,
            }
        )
        self.endpoint_rows.replace(endpoint, versioned.etag)
        self.endpoints.changed(endpoint.tenant_id, endpoint.id)
        self.audit.record(
            tenant_id=launch.tenant_id,
            user_id=launch.user_id,
            name=launch.user_name,
            email=launch.user_email,
            action="validate",
            entity="fhir_endpoint",
            entity_id=endpoint.id,
            fields={"status", "validated_ehr_user", "validated_at"},
            subject=endpoint.base_url,
            environment=endpoint.environment,
        )
        return SignInResult(launch.tenant_id, endpoint.id, ehr_user)

    def _decide(
        self, principal: Principal, endpoint_id: str, status: EndpointStatus, comment: str | None
    ) -> FhirEndpoint:
        endpoint, etag = self.endpoints.get_versioned(principal, endpoint_id)
        self._as_approver(principal, endpoint)
        if status == EndpointStatus.APPROVED and endpoint.status != EndpointStatus.VALIDATED:
            raise Conflict("Sign in to the EHR for this endpoint before approving it; that sign-in proves the URL.")
        if status == EndpointStatus.REJECTED and endpoint.status not in SIGN_IN_STATUSES:
            raise Conflict(f"Only endpoints pending approval can be rejected; this one is {endpoint.status.value}.")
        if status == EndpointStatus.APPROVED:
            self.owners.claim(endpoint)  # 409 when another organisation approved this URL first
        now = self.clock.now()
        endpoint = endpoint.model_copy(
            update={
                "status": status,
                "decided_by": principal.user_id,
                "decided_at": now,
                "decision_comment": comment,
                "updated_at": now,
                "updated_by": principal.user_id,
            }
        )
        self.endpoint_rows.replace(endpoint, etag)
        self.endpoints.changed(endpoint.tenant_id, endpoint.id)
        self.audit.by(
            principal,
            action="approve" if status == EndpointStatus.APPROVED else "reject",
            entity="fhir_endpoint",
            entity_id=endpoint_id,
            fields={"status", "decided_at"} | ({"decision_comment"} if comment else set()),
            subject=endpoint.base_url,
            environment=endpoint.environment,
        )
        return endpoint

    def approve(self, principal: Principal, endpoint_id: str) -> FhirEndpoint:
        return self._decide(principal, endpoint_id, EndpointStatus.APPROVED, None)

    def reject(self, principal: Principal, endpoint_id: str, comment: str) -> FhirEndpoint:
        return self._decide(principal, endpoint_id, EndpointStatus.REJECTED, comment)
