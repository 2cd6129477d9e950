"""Shared fixtures: one Azurite for the run (in memory, free ports), a unique table prefix per test, settings
pointing at Azurite, and the real function app served by the dev host."""

from __future__ import annotations

import dataclasses
import itertools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dev.fakes.ehr_profiles import FAILING_PROFILES, PROFILES
from dev.fakes.identity import LocalIssuer
from dev.fakes.sandbox_ehr import SandboxEhr
from dev.host import outbox
from dev.host.azurite import Azurite, free_port
from dev.host.host import DevHost, HostConfig, HostKeys
from dev.host.serving import ServerThread
from shared.core.outbound import Outbound
from shared.core.settings import Settings, get_settings, load_settings
from shared.runtime import Runtime, get_runtime
from shared.visits.providers.graph import GraphMeetingProvider
from tests.support.credentials import StaticCredential
from tests.support.entra_stub import EntraStub
from tests.support.graph_stub import GraphStub

# Fixtures: http and tenant; ehr; scripted (a visit for the reports); start_visit (a visit with writeback on);
# setup (an organisation that texts, on a fake clock).
pytest_plugins = [
    "tests.support.portal",
    "tests.support.visits",
    "tests.support.reports",
    "tests.support.writeback",
    "tests.support.texts",
    "tests.support.clinic",
]

ROOT = Path(__file__).resolve().parent.parent

# Hypothesis: `ci` (the default, what `make test` and CI run) derives each test's examples from the test itself, so
# a run fails or passes the same way every time; `explore` draws new examples on every run. Either prints a failing
# example, and a @reproduce_failure blob to paste above the test (see the README).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
hypothesis_settings.register_profile("explore", print_blob=True, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FUNCTION_KEY = secrets.token_urlsafe(16)
MASTER_KEY = secrets.token_urlsafe(16)


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    with Azurite() as running:
        yield running


AUDIENCE = "api://ehr-connector-test"
CLIENT_ID = "connector-test-client"


@pytest.fixture(scope="session")
def identity() -> Iterator[LocalIssuer]:
    """The dev host's local sign-in issuer, on a free port."""
    issuer = LocalIssuer(audience=AUDIENCE)
    with ServerThread(issuer.application()) as server:
        issuer.url = server.url
        yield issuer


@pytest.fixture(scope="session")
def graph() -> Iterator[GraphStub]:
    """The Graph online-meetings stub, on a free port."""
    stub = GraphStub(token=secrets.token_urlsafe(16))
    with ServerThread(stub.application()) as server:
        stub.url = server.url
        yield stub


CLINICIAN_CLIENT_ID = "connector-test-clinicians"
CLINICIAN_SECRET = secrets.token_urlsafe(24)


@pytest.fixture(scope="session")
def entra_id() -> Iterator[EntraStub]:
    """Entra ID's stand-in, on a free port: the clinicians' Microsoft 365 sign-in goes to it (it knows the app's
    clinician client, its secret and its redirect URI, once the app has a port)."""
    stub = EntraStub()
    with ServerThread(stub.application()) as server:
        stub.url = server.url
        yield stub


@dataclass
class GraphMeetings:
    stub: GraphStub
    provider: GraphMeetingProvider
    sleeps: list[float]


@pytest.fixture(scope="session")
def graph_provider(graph: GraphStub) -> GraphMeetings:
    sleeps: list[float] = []
    provider = GraphMeetingProvider(
        StaticCredential(graph.token),
        base_url=f"{graph.url}/v1.0",
        sleep=sleeps.append,
        attempts=3,
        outbound=Outbound(30, allow_private=True),  # the stub is on loopback, as in a local run (30 s: the default)
    )
    return GraphMeetings(graph, provider, sleeps)


@pytest.fixture
def graph_meetings(app_host: ServerThread, graph_provider: GraphMeetings) -> GraphMeetings:
    """The app's meetings go to the Graph stub: Entra ID has no emulator, so the real provider gets a static
    token (and a recorded sleep) at the composition root."""
    get_runtime().use(meetings=graph_provider.provider)
    graph_provider.stub.failures.clear()
    graph_provider.sleeps.clear()
    return graph_provider


def base_environment(
    azurite: Azurite, table_prefix: str, public_base_url: str = "http://127.0.0.1:1"
) -> dict[str, str]:
    return {
        "ENVIRONMENT": "local",
        "PUBLIC_BASE_URL": public_base_url,
        "PORTAL_API_AUDIENCE": AUDIENCE,
        "AzureWebJobsStorage": azurite.connection_string("connectorapp"),
        "DATA_STORAGE_US": azurite.connection_string("connectorus"),
        "DATA_STORAGE_EU": azurite.connection_string("connectoreu"),
        "DATA_STORAGE_APAC": azurite.connection_string("connectorapac"),
        "DATA_QUEUES_US": azurite.connection_string("connectorus"),
        "DATA_QUEUES_EU": azurite.connection_string("connectoreu"),
        "DATA_QUEUES_APAC": azurite.connection_string("connectorapac"),
        "TABLE_PREFIX": table_prefix,
        "MEETING_PROVIDER": "local",
        "SMS_PROVIDER": "outbox",
        "PHONE_NUMBER_POLL_SECONDS": "0",
        "SECRETS_PROVIDER": "env",
        "SECRET_JOIN_LINK_KEY": secrets.token_urlsafe(32),
        "SECRET_OPT_OUT_KEY": secrets.token_urlsafe(32),
        "MEETING_ORGANIZER_ID": "service-organizer",
        "STORAGE_TIMEOUT_SECONDS": "2",
    }


@pytest.fixture
def table_prefix() -> str:
    return "t" + secrets.token_hex(5)


@pytest.fixture
def environment(azurite: Azurite, table_prefix: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The app's settings for this test, in the process environment (as the Functions host provides them)."""
    values = base_environment(azurite, table_prefix)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def settings(environment: dict[str, str]) -> Settings:
    return load_settings()


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    return Runtime(settings)


@dataclass
class AppHost:
    server: ServerThread
    host: DevHost

    def pump(self) -> None:
        """Run queue triggers until every queue is empty."""
        while self.server.run(self.host.queues.run_once()):
            pass

    def pump_only(self, *function_names: str) -> None:
        """Run these queue triggers (and no other) until their queues are empty."""
        pump = self.host.queues.only(*function_names)
        while self.server.run(pump.run_once()):
            pass

    def pump_retrying_at_once(self) -> None:
        """The same, with failed messages visible again at once (host.json's retry count, no 30 s wait), so
        that a message failing for good reaches the poison queue within the call."""
        options = dataclasses.replace(self.host.config.queues, visibility_timeout=0)
        pump = self.host.queues.with_options(options)
        while self.server.run(pump.run_once()):
            pass


@pytest.fixture(scope="session")
def app_host(app: AppHost) -> ServerThread:
    return app.server


_ehr_hosts = itertools.count(2)


def ehr_host() -> str:
    """A loopback address no other EHR of this run has had (127.0.x.y): a FHIR base URL belongs to the first
    organisation that approves it, and the kernel hands out a freed port again, so a port alone is not enough."""
    n = next(_ehr_hosts)
    return f"127.0.{n // 250}.{n % 250 + 2}"


@contextmanager
def serve_ehr(connector: str, profile: str = "epic") -> Iterator[SandboxEhr]:
    """A sandbox EHR of its own (see `ehr_host`), behaving as `profile`, knowing the app's client ID, its redirect
    URIs and (for confidential clients) the app's JWKS URLs."""
    ehr = SandboxEhr(connector_url=connector, profile=PROFILES.get(profile) or FAILING_PROFILES[profile])
    ehr.register_client(CLIENT_ID, f"{connector}/api/portal/approval/callback")
    ehr.register_client(CLIENT_ID, f"{connector}/api/launch/callback")
    ehr.register_backend_client(CLIENT_ID, f"{connector}/api/.well-known/jwks/")  # any organisation's keys
    with ServerThread(ehr.application(), host=ehr_host()) as server:
        ehr.url = server.url
        yield ehr


@pytest.fixture
def sandbox(app_host: ServerThread, request: pytest.FixtureRequest) -> Iterator[SandboxEhr]:
    """A sandbox EHR of this test's own, on a free port. Its own FHIR base URL, because a base URL belongs to the
    first organisation that approves it. Parametrise it indirectly with a profile name to change how it behaves."""
    with serve_ehr(app_host.url, getattr(request, "param", "epic")) as ehr:
        yield ehr


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    """Every span of the session, kept in memory: the tracer provider is set before the app first runs, as the
    Functions worker sets its own when OpenTelemetry is on (the app then uses it as it is)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


@pytest.fixture(scope="session")
def app(
    azurite: Azurite, identity: LocalIssuer, graph: GraphStub, entra_id: EntraStub, spans: InMemorySpanExporter
) -> Iterator[AppHost]:
    """The real function_app, indexed once, served by the dev host on a free port, trusting the local issuer, with
    meetings at the Graph stub and the clinicians' Microsoft 365 sign-in at the Entra stub."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    entra_id.codes.register(CLINICIAN_CLIENT_ID, CLINICIAN_SECRET, f"{public}/api/launch/microsoft")
    graph.delegated = entra_id.codes.access_tokens  # Graph trusts the tokens Entra ID issued
    with pytest.MonkeyPatch.context() as patch:
        values = base_environment(azurite, "t" + secrets.token_hex(5), public)
        values["LOCAL_ISSUER_URL"] = identity.url
        values["MEETING_PROVIDER"] = "graph"
        values["GRAPH_BASE_URL"] = f"{graph.url}/v1.0"
        values["ENTRA_AUTHORITY"] = entra_id.url
        values["CLINICIAN_SIGN_IN_CLIENT_ID"] = CLINICIAN_CLIENT_ID
        values["SECRET_CLINICIAN_SIGN_IN_SECRET"] = CLINICIAN_SECRET
        for key, value in values.items():
            patch.setenv(key, value)
        get_settings.cache_clear()
        get_runtime.cache_clear()
        import function_app

        host = DevHost(
            function_app.app,
            keys=HostKeys((FUNCTION_KEY,), MASTER_KEY),
            environ=os.environ,
            config=HostConfig.load(ROOT / "host.json"),
            web_dir=ROOT / "web",
        )
        with ServerThread(host.web_application(outbox.routes()), port=port) as server:  # as `python -m dev`
            yield AppHost(server, host)
        host.close()
        get_settings.cache_clear()
        get_runtime.cache_clear()
