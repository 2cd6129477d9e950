"""Server-side launch resolution: the time from the EHR's redirect arriving at /api/launch/callback to our
redirect out (state, token exchange, id_token check, appointment key, meeting create-or-get and its event
subscription, storage), at 1 and at 50 concurrent launches. The sandbox EHR and the Graph stub are loopback stubs
in processes of their own (bench/stubs.py), and so does the client sending the measured requests, so the figures are
our own overhead (plus Azurite). Each launch is a new appointment, so each creates a meeting: the slower path.

Run: make bench   (or .venv/bin/python bench/launch.py [--launches 200])
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from azure.core.credentials import AccessToken  # noqa: E402

from bench.counting import counting  # noqa: E402
from bench.counting import report as report_counts  # noqa: E402
from bench.harness import Harness  # noqa: E402
from bench.stubs import BENCH_TOKEN, LoadProcess, StubProcess  # noqa: E402
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
        f"{len(samples) / wall:5.1f}/s  (mean {statistics.mean(samples) * 1000:.1f} ms, {len(samples)} requests, "
        f"{wall:.1f} s measured)"
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

    def authorized_callback() -> tuple[str, dict[str, str]]:
        """Everything before the measured part: our launch URL, then the EHR's authorize. The callback, with the
        state cookie the browser got (the callback is refused without it)."""
        appointment = uuid.uuid4().hex[:10]
        context = {"user": user, "appointment": appointment, "patient": "P1", "csn": appointment}
        query = urlencode({"iss": fhir_base, "launch": encode_launch(context)})
        start = http.get(f"/api/launch/provider?{query}")
        http.cookies.clear()
        cookie = start.headers["Set-Cookie"].split(";", 1)[0]
        return str(httpx.get(start.headers["Location"]).headers["Location"]), {"Cookie": cookie}

    load = LoadProcess(harness.public)

    def measured(requests: list[tuple[str, dict[str, str]]], concurrency: int) -> list[float]:
        answers = load.get([(url.removeprefix(harness.public), headers) for url, headers in requests], concurrency)
        assert all(status == 302 for _, status in answers), sorted({status for _, status in answers})
        return [seconds for seconds, _ in answers]

    measured([authorized_callback() for _ in range(5)], 1)  # warm up: clients, tables, caches
    print(
        f"launch resolution (callback in -> redirect out), {args.launches} launches per level, "
        f"new meeting each, {args.meetings} meetings"
    )
    for concurrency in (1, 50):
        samples: list[float] = []
        busy = 0.0  # measured time only: preparing each batch (our launch URL, the EHR's authorize) is not
        with counting(graph, harness.remote_ehr) as work:  # the whole launch: our launch URL too
            while len(samples) < args.launches:
                batch = min(concurrency, args.launches - len(samples))
                callbacks = [authorized_callback() for _ in range(batch)]
                started = time.perf_counter()
                samples += measured(callbacks, concurrency)
                busy += time.perf_counter() - started
        report(concurrency, samples, busy)
        if concurrency == 1:
            report_counts("launch", work, len(samples), statistics.mean(samples))
    links = harness.runtime.visits.join_links
    endpoint = harness.endpoint

    def join_url() -> str:
        """An SMS join link for a new appointment (its meeting is created at the first join: the slower path)."""
        now = datetime.now(UTC)
        key = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        link = links.issue(
            tenant_id=harness.tenant,
            endpoint_id=endpoint,
            appointment_key=key,
            role="patient",
            start=now,
            end=now + timedelta(minutes=30),
        )
        # The token as the join page posts it is the same work as the path form of earlier links, a GET here.
        return link.replace("/api/join#", "/api/join/")

    print(f"join links (/api/join/{{token}} in -> redirect out), {args.launches} per level, new meeting each")
    for concurrency in (1, 50):
        urls = [join_url() for _ in range(args.launches)]
        began = time.perf_counter()
        with counting(graph, harness.remote_ehr) as work:
            samples = measured([(url, {}) for url in urls], concurrency)
        report(concurrency, samples, time.perf_counter() - began)
        if concurrency == 1:
            report_counts("join", work, len(samples), statistics.mean(samples))
    load.stop()
    harness.close()
    print(f"  Graph createOrGet calls: {graph.stop()}")


if __name__ == "__main__":
    main()
