"""What every benchmark needs: Azurite, the local issuer, the sandbox EHR and the real app on the dev host, in one
process, plus an organisation with an approved FHIR endpoint (driven through the portal API)."""

from __future__ import annotations

import os
import secrets
import uuid
from types import TracebackType
from typing import Any

import httpx

from bench.stubs import StubProcess
from dev.fakes.identity import LocalIssuer
from dev.fakes.sandbox_ehr import SandboxEhr
from dev.host.azurite import Azurite, free_port
from dev.host.host import DevHost, HostConfig, HostKeys
from dev.host.queues import QueueOptions
from dev.host.serving import ServerThread

CLIENT_ID = "bench-client"


class Harness:
    def __init__(
        self,
        extra_environment: dict[str, str] | None = None,
        queue_options: QueueOptions | None = None,
        *,
        ehr_process: bool = False,
        azurite: Azurite | None = None,
        reuse_port: bool = False,
    ) -> None:
        """`ehr_process`: the sandbox EHR runs in a process of its own (`remote_ehr`), not in this one (`ehr`);
        `azurite`: one already started (the caller stops it); `reuse_port`: other processes may serve the app on
        the same port (instances behind one address)."""
        self._owns_azurite = azurite is None
        self.azurite = azurite or Azurite().start()
        self.issuer = LocalIssuer(audience="api://bench")
        self._servers = [ServerThread(self.issuer.application()).start()]
        self.issuer.url = self._servers[0].url
        port = free_port()
        self.public = f"http://127.0.0.1:{port}"
        self.ehr = SandboxEhr(connector_url=self.public)
        self.remote_ehr: StubProcess | None = None
        if ehr_process:
            self.remote_ehr = StubProcess("ehr", self.public, CLIENT_ID)
            self.fhir_base = f"{self.remote_ehr.url}/fhir"
        else:
            self.ehr.register_client(CLIENT_ID, f"{self.public}/api/portal/approval/callback")
            self.ehr.register_client(CLIENT_ID, f"{self.public}/api/launch/callback")
            self._servers.append(ServerThread(self.ehr.application()).start())
            self.ehr.url = self._servers[-1].url
            self.fhir_base = self.ehr.fhir_base
        os.environ.update(
            {
                "ENVIRONMENT": "local",
                "PUBLIC_BASE_URL": self.public,
                "PORTAL_API_AUDIENCE": "api://bench",
                "LOCAL_ISSUER_URL": self.issuer.url,
                "AzureWebJobsStorage": self.azurite.connection_string("connectorapp"),
                "DATA_STORAGE_EU": self.azurite.connection_string("connectoreu"),
                "DATA_QUEUES_EU": self.azurite.connection_string("connectoreu"),
                "DATA_STORAGE_US": self.azurite.connection_string("connectorus"),
                "DATA_QUEUES_US": self.azurite.connection_string("connectorus"),
                "MEETING_PROVIDER": "local",
                "MEETING_ORGANIZER_ID": "service-organizer",
                "SMS_PROVIDER": "outbox",
                "SECRETS_PROVIDER": "env",
                "SECRET_JOIN_LINK_KEY": secrets.token_urlsafe(32),
                "SECRET_OPT_OUT_KEY": secrets.token_urlsafe(32),
                **(extra_environment or {}),
            }
        )
        import function_app
        from shared.runtime import get_runtime

        self.runtime = get_runtime()
        self.host = DevHost(
            function_app.app,
            keys=HostKeys(("k",), "m"),
            environ=os.environ,
            config=HostConfig(queues=queue_options or QueueOptions()),
        )
        self._servers.append(ServerThread(self.host.web_application(), port=port, reuse_port=reuse_port).start())
        self.http = httpx.Client(base_url=self.public, timeout=60, limits=httpx.Limits(max_connections=100))
        self.as_tenant(str(uuid.uuid4()))

    def as_tenant(self, tenant: str) -> None:
        """From now on the portal calls are an admin's and an approver's of this organisation (Entra tenant)."""
        self.tenant = tenant
        self.admin = self._bearer("admin@bench.example", "Connector.Admin")
        self.approver = self._bearer("approver@bench.example", "Connector.Approver")

    def _bearer(self, user: str, role: str) -> dict[str, str]:
        token = self.issuer.mint(username=user, roles=[role], tenant_id=self.tenant)
        return {"Authorization": f"Bearer {token}"}

    def portal(self, method: str, path: str, *, as_approver: bool = False, **kwargs: Any) -> Any:
        headers = self.approver if as_approver else self.admin
        answer = self.http.request(method, f"/api/portal/{path}", headers=headers, **kwargs)
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None

    def approved_endpoint(self, geography: str = "EU", fhir_base: str = "") -> str:
        """An organisation in `geography` with a FHIR endpoint (the sandbox EHR's, or another at `fhir_base`)
        submitted and approved."""
        self.portal("POST", "organisation", json={"display_name": "Bench", "geography": geography})
        body = {
            "base_url": fhir_base or self.fhir_base,
            "environment": "test",
            "approver": "approver@bench.example",
            "client_id": CLIENT_ID,
        }
        endpoint = str(self.portal("POST", "endpoints", json=body)["id"])
        self.portal("POST", f"endpoints/{endpoint}/submit")
        start = self.portal("POST", f"endpoints/{endpoint}/sign-in", as_approver=True)
        begin = self.http.get(start["authorize_url"])  # binds the sign-in to this client's cookie jar
        self.http.get(httpx.get(begin.headers["Location"]).headers["Location"])
        assert self.portal("POST", f"endpoints/{endpoint}/approve", as_approver=True)["status"] == "approved"
        self.endpoint = endpoint
        return endpoint

    def sms_number(self) -> str:
        """Give the SMS consents and acquire a phone number (the local provider's job, run from the queue)."""
        for consent in ("sms_terms", "patient_messaging"):
            self.portal("POST", f"sms/consents/{consent}")
        job = self.portal("POST", "phone-numbers", json={})
        while self.pump():
            pass
        return str(self.portal("GET", f"phone-number-jobs/{job['id']}")["number"])

    def pump(self, options: QueueOptions | None = None) -> int:
        """Run one round of every queue trigger (under other host settings if given); how many messages it
        handled."""
        queues = self.host.queues if options is None else self.host.queues.with_options(options)
        return int(self._servers[-1].run(queues.run_once()))

    def upload_certificate(self, pem: str) -> None:
        self.portal("PUT", "certificates/test", json={"certificate": pem})

    def post_hl7(self, url: str, body: bytes, signature: str) -> int:
        headers = {"Content-Type": "application/hl7-v2", "HL7-Signature": signature}
        return self.http.post(url, content=body, headers=headers).status_code

    def another_ehr(self) -> SandboxEhr:
        """A second sandbox EHR (another FHIR base URL: a URL belongs to one organisation), served here."""
        ehr = SandboxEhr(connector_url=self.public)
        for path in ("portal/approval/callback", "launch/callback"):
            ehr.register_client(CLIENT_ID, f"{self.public}/api/{path}")
        self._servers.insert(0, ServerThread(ehr.application()).start())
        ehr.url = self._servers[0].url
        return ehr

    def stop_serving(self) -> None:
        """Stop answering on the public port (other instances sharing it go on); the stubs keep serving."""
        self._servers.pop().stop()

    def close(self) -> None:
        for server in reversed(self._servers):
            server.stop()
        if self.remote_ehr is not None:
            self.remote_ehr.stop()
        self.host.close()
        if self._owns_azurite:
            self.azurite.stop()

    def __enter__(self) -> Harness:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
