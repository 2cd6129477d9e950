"""Server-side launch resolution: the time from the EHR's redirect arriving at /api/launch/callback to our
redirect out (state, token exchange, id_token check, appointment key, meeting create-or-get, storage), at 1 and
at 50 concurrent launches. The EHR and Graph are instant loopback stubs, so the figures are our own overhead
(plus Azurite). Each launch is a new appointment, so each creates a meeting: the slower path.

Run: make bench   (or .venv/bin/python bench/launch.py [--launches 200])
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from azure.core.credentials import AccessToken  # noqa: E402

from dev.azurite import Azurite, free_port  # noqa: E402
from dev.host import DevHost, HostConfig, HostKeys  # noqa: E402
from dev.identity import LocalIssuer  # noqa: E402
from dev.sandbox_ehr import SandboxEhr, encode_launch  # noqa: E402
from dev.serving import ServerThread  # noqa: E402

CLIENT_ID = "bench-client"


class Token:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("bench-token", int((datetime.now(UTC) + timedelta(hours=1)).timestamp()))


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=200, help="launches per concurrency level")
    parser.add_argument(
        "--meetings", choices=("graph", "local"), default="graph", help="graph: msgraph-sdk against the stub"
    )
    args = parser.parse_args()

    from tests.support.graph_stub import GraphStub

    azurite = Azurite().start()
    issuer = LocalIssuer(audience="api://bench")
    identity = ServerThread(issuer.application()).start()
    issuer.url = identity.url
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    ehr = SandboxEhr(connector_url=public)
    ehr.register_client(CLIENT_ID, f"{public}/api/portal/approval/callback")
    ehr.register_client(CLIENT_ID, f"{public}/api/launch/callback")
    ehr_server = ServerThread(ehr.application()).start()
    ehr.url = ehr_server.url
    graph = GraphStub(token="bench-token")
    graph_server = ServerThread(graph.application()).start()
    graph.url = graph_server.url
    os.environ.update(
        {
            "ENVIRONMENT": "local",
            "PUBLIC_BASE_URL": public,
            "PORTAL_API_AUDIENCE": "api://bench",
            "LOCAL_ISSUER_URL": issuer.url,
            "AzureWebJobsStorage": azurite.connection_string("connectorapp"),
            "DATA_STORAGE_EU": azurite.connection_string("connectoreu"),
            "MEETING_PROVIDER": "graph",
            "MEETING_ORGANIZER_ID": "service-organizer",
            "GRAPH_BASE_URL": f"{graph.url}/v1.0",
            "SMS_PROVIDER": "outbox",
            "SECRETS_PROVIDER": "env",
            "SECRET_JOIN_LINK_KEY": secrets.token_urlsafe(32),
        }
    )
    import function_app
    from shared.meetings.graph import GraphMeetingProvider
    from shared.runtime import get_runtime

    runtime = get_runtime()
    if args.meetings == "graph":
        runtime.meetings = GraphMeetingProvider(Token(), base_url=f"{graph.url}/v1.0")  # Entra has no emulator
    else:
        from shared.meetings.local import LocalMeetingProvider

        runtime.meetings = LocalMeetingProvider(public)
    host = DevHost(function_app.app, keys=HostKeys(("k",), "m"), environ=os.environ, config=HostConfig())
    app_server = ServerThread(host.web_application(), port=port).start()
    http = httpx.Client(base_url=public, timeout=60, limits=httpx.Limits(max_connections=100))

    tenant = str(uuid.uuid4())
    admin = {"Authorization": "Bearer " + issuer.mint(username="a@x.org", roles=["Connector.Admin"], tenant_id=tenant)}
    approver = {
        "Authorization": "Bearer " + issuer.mint(username="b@x.org", roles=["Connector.Approver"], tenant_id=tenant)
    }
    http.post("/api/portal/organisation", json={"display_name": "Bench", "geography": "EU"}, headers=admin)
    endpoint = http.post(
        "/api/portal/endpoints",
        json={"base_url": ehr.fhir_base, "environment": "test", "approver": "b@x.org", "client_id": CLIENT_ID},
        headers=admin,
    ).json()["id"]
    http.post(f"/api/portal/endpoints/{endpoint}/submit", headers=admin)
    start = http.post(f"/api/portal/endpoints/{endpoint}/sign-in", headers=approver).json()
    http.get(httpx.get(start["authorize_url"]).headers["Location"])
    assert http.post(f"/api/portal/endpoints/{endpoint}/approve", headers=approver).json()["status"] == "approved"

    def authorized_callback() -> str:
        """Everything before the measured part: our launch URL, then the EHR's authorize."""
        appointment = uuid.uuid4().hex[:10]
        context = {"user": ehr.user.fhir_user, "appointment": appointment, "patient": "P1"}
        query = urlencode({"iss": ehr.fhir_base, "launch": encode_launch(context), "sessionId": appointment})
        authorize = http.get(f"/api/launch/provider?{query}").headers["Location"]
        return str(httpx.get(authorize).headers["Location"])

    def resolve(callback: str) -> float:
        began = time.perf_counter()
        answer = http.get(callback)
        elapsed = time.perf_counter() - began
        assert answer.status_code == 302, answer.text
        return elapsed

    for _ in range(5):  # warm up: clients, tables, caches
        resolve(authorized_callback())
    print(
        f"launch resolution (callback in -> redirect out), {args.launches} launches per level, "
        f"new meeting each, {args.meetings} meetings"
    )
    for concurrency in (1, 50):
        samples: list[float] = []
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            while len(samples) < args.launches:
                batch = min(concurrency, args.launches - len(samples))
                callbacks = [authorized_callback() for _ in range(batch)]
                samples += list(pool.map(resolve, callbacks))
        wall = time.perf_counter() - began
        p50, p95, p99 = (percentile(samples, p) * 1000 for p in (50, 95, 99))
        print(
            f"  concurrency {concurrency:>2}: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms  "
            f"(mean {statistics.mean(samples) * 1000:.1f} ms, {len(samples)} launches, {wall:.1f} s wall)"
        )
    print(f"  Graph createOrGet calls: {sum(1 for m, p in graph.requests if p.endswith('createOrGet'))}")
    for server in (app_server, graph_server, ehr_server, identity):
        server.stop()
    host.close()
    azurite.stop()


if __name__ == "__main__":
    main()
