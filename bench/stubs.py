"""The outside systems a benchmark talks to (the Graph stub, the sandbox EHR), each in a process of its own, so
that they do not compete with the app for one interpreter: what a benchmark measures is the app."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from multiprocessing.connection import Connection
from typing import Literal

Kind = Literal["graph", "ehr"]
BENCH_TOKEN = "bench-token"
BACKEND_CLIENT = "bench-backend"
"""The sandbox EHR's backend-services client (writeback), for every organisation's JWKS at the connector."""


def _serve(kind: Kind, connector_url: str, client_id: str, connection: Connection) -> None:
    from aiohttp import web

    from dev.host.serving import ServerThread

    count: int | None = None
    application: web.Application
    if kind == "graph":
        from tests.support.graph_stub import GraphStub

        graph = GraphStub(token=BENCH_TOKEN)
        application = graph.application()
    else:
        from dev.fakes.sandbox_ehr import SandboxEhr

        ehr = SandboxEhr(connector_url=connector_url)
        for path in ("portal/approval/callback", "launch/callback"):
            ehr.register_client(client_id, f"{connector_url}/api/{path}")
        ehr.register_backend_client(BACKEND_CLIENT, f"{connector_url}/api/.well-known/jwks/")
        application = ehr.application()
    from shared.core.usage import usage

    usage.start()  # the calls this stub answers, for the benchmark's counts per unit (`StubProcess.counts`)
    with ServerThread(application) as server:
        if kind == "graph":
            graph.url = server.url
        else:
            ehr.url = server.url
        connection.send(server.url)
        while connection.recv() == "counts":  # until told to stop
            connection.send(usage.snapshot())
        if kind == "graph":
            count = sum(1 for _, path in graph.requests if path.endswith("createOrGet"))
    connection.send(count)


class StubProcess:
    """One stub served by a spawned process; `url` is where it listens."""

    def __init__(self, kind: Kind, connector_url: str = "", client_id: str = "") -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(kind, connector_url, client_id, child), daemon=True)
        self._process.start()
        if not self._connection.poll(60):
            raise RuntimeError(f"The {kind} stub did not start")
        self.url: str = self._connection.recv()

    def counts(self) -> Counter[tuple[str, ...]]:
        """The calls it answered so far, as shared/core/usage.py counts them."""
        self._connection.send("counts")
        answer: Counter[tuple[str, ...]] = self._connection.recv()
        return answer

    def stop(self) -> int | None:
        """Stop it; for the Graph stub, how many createOrGet calls it answered."""
        self._connection.send("stop")
        count: int | None = self._connection.recv() if self._connection.poll(30) else None
        self._process.join(30)
        return count


def _fire(base_url: str, connection: Connection) -> None:
    """The load: each batch of (path, headers) GET at once, one thread each; their latencies and statuses."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    with httpx.Client(base_url=base_url, timeout=120, limits=httpx.Limits(max_connections=100)) as http:

        def get(request: tuple[str, dict[str, str]]) -> tuple[float, int]:
            path, headers = request
            began = time.perf_counter()
            status = http.get(path, headers=headers).status_code
            return time.perf_counter() - began, status

        while (batch := connection.recv()) is not None:
            requests, concurrency = batch
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                connection.send(list(pool.map(get, requests)))


class LoadProcess:
    """The requests a benchmark measures, sent from a process of their own: the client's own work (building
    requests, reading answers, its threads) does not compete with the app's for one interpreter."""

    def __init__(self, base_url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_fire, args=(base_url, child), daemon=True)
        self._process.start()

    def get(self, requests: list[tuple[str, dict[str, str]]], concurrency: int) -> list[tuple[float, int]]:
        """GET each (path, headers), `concurrency` at a time: (seconds, status) each, in order."""
        self._connection.send((requests, concurrency))
        answer: list[tuple[float, int]] = self._connection.recv()
        return answer

    def stop(self) -> None:
        self._connection.send(None)
        self._process.join(30)
