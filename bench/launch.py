"""Server-side launch resolution: the time from the EHR's redirect arriving at /api/launch/callback to our
redirect out (state, token exchange, id_token check, appointment key, meeting create-or-get and its event
subscription, storage), at 1 and at 50 concurrent launches. The sandbox EHR and the Graph stub are loopback stubs
in processes of their own (bench/stubs.py), so the figures are our own overhead (plus Azurite). Each launch is a new
appointment, so each creates a meeting: the slower path.

Run: make bench   (or .venv/bin/python bench/launch.py [--launches 200])
"""

from __future__ import annotations

import argparse
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

from bench.harness import Harness  # noqa: E402
from bench.stubs import BENCH_TOKEN, StubProcess  # noqa: E402
from dev.fakes.sandbox_ehr import encode_launch  # noqa: E402


class Token:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(BENCH_TOKEN, int((datetime.now(UTC) + timedelta(hours=1)).timestamp()))


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(concurrency: int, samples: list[float], wall: float) -> None:
    p50, p95, p99 = (percentile(samples, p) * 1000 for p in (50, 95, 99))
    print(
        f"  concurrency {concurrency:>2}: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms  "
        f"(mean {statistics.mean(samples) * 1000:.1f} ms, {len(samples)} requests, {wall:.1f} s wall)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=200, help="launches per concurrency level")
    parser.add_argument(
        "--meetings", choices=("graph", "local"), default="graph", help="graph: msgraph-sdk against the stub"
    )
    args = parser.parse_args()

    graph = StubProcess("graph")
    harness = Harness({"MEETING_PROVIDER": "graph", "GRAPH_BASE_URL": f"{graph.url}/v1.0"}, ehr_process=True)
    from shared.core.outbound import Outbound
    from shared.visits.providers.graph import GraphMeetingProvider

    if args.meetings == "graph":
        stub = GraphMeetingProvider(Token(), base_url=f"{graph.url}/v1.0", outbound=Outbound(30, allow_private=True))
        harness.runtime.use(meetings=stub)  # no Entra emulator; the Graph stub is on loopback
    else:
        from shared.visits.providers.local import LocalMeetingProvider

        harness.runtime.use(meetings=LocalMeetingProvider(harness.public))
    harness.approved_endpoint()
    http, fhir_base = harness.http, harness.fhir_base
    user = "Practitioner/E1001"  # the sandbox EHR's signed-in clinician

    def authorized_callback() -> str:
        """Everything before the measured part: our launch URL, then the EHR's authorize."""
        appointment = uuid.uuid4().hex[:10]
        context = {"user": user, "appointment": appointment, "patient": "P1", "csn": appointment}
        query = urlencode({"iss": fhir_base, "launch": encode_launch(context)})
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
        report(concurrency, samples, time.perf_counter() - began)
    links = harness.runtime.visits.join_links
    endpoint = harness.endpoint

    def join_url() -> str:
        """An SMS join link for a new appointment (its meeting is created at the first join: the slower path)."""
        now = datetime.now(UTC)
        key = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        return links.issue(
            tenant_id=harness.tenant,
            endpoint_id=endpoint,
            appointment_key=key,
            role="patient",
            start=now,
            end=now + timedelta(minutes=30),
        )

    def join(url: str) -> float:
        began = time.perf_counter()
        answer = http.get(url.removeprefix(harness.public))
        elapsed = time.perf_counter() - began
        assert answer.status_code == 302, answer.text
        return elapsed

    print(f"join links (/api/join/{{token}} in -> redirect out), {args.launches} per level, new meeting each")
    for concurrency in (1, 50):
        urls = [join_url() for _ in range(args.launches)]
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            samples = list(pool.map(join, urls))
        report(concurrency, samples, time.perf_counter() - began)
    harness.close()
    print(f"  Graph createOrGet calls: {graph.stop()}")


if __name__ == "__main__":
    main()
