"""Outbound calls are guarded: no request forgery into loopback, private, link-local or metadata addresses (and
no http) outside local runs, link-local and metadata refused everywhere, answers capped in size and calls cut at
an overall deadline. A loopback server stands in for the destinations; it must see nothing it should not."""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Iterator

import pytest
from aiohttp import web

from dev.host.serving import ServerThread
from shared.core.errors import UpstreamError
from shared.core.outbound import DestinationRefused, Outbound, address_refused


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[ServerThread, list[str]]]:
    seen: list[str] = []

    async def small(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"ok": True})

    async def large(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(body=b"[" + b"0," * 600_000 + b"0]", content_type="application/json")

    async def bomb(request: web.Request) -> web.Response:
        seen.append(request.path)
        body = gzip.compress(b" " * 3_000_000)  # 3 MB of spaces in a few kB
        return web.Response(body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})

    async def drip(request: web.Request) -> web.StreamResponse:
        seen.append(request.path)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(50):
            await response.write(b" ")
        await response.write(b"{}")
        return response

    app = web.Application()
    app.router.add_get("/small", small)
    app.router.add_get("/large", large)
    app.router.add_get("/bomb", bomb)
    app.router.add_get("/drip", drip)
    with ServerThread(app) as running:
        yield running, seen


def public(host: str, port: int) -> list[str]:
    return ["20.190.128.1"]


@pytest.mark.parametrize(
    "url",
    [
        "http://ehr.example/fhir",  # http outside local
        "https://127.0.0.1/fhir",
        "https://localhost/fhir",
        "https://[::1]/fhir",
        "https://10.1.2.3/fhir",
        "https://192.168.0.10/fhir",
        "https://172.16.5.5/fhir",
        "https://100.64.0.1/fhir",
        "https://169.254.169.254/metadata/instance",
        "https://[fd00:ec2::254]/latest",
        "https://224.0.0.1/",
        "file:///etc/passwd",
    ],
)
def test_outside_local_only_https_to_public_addresses_is_called(url: str) -> None:
    with pytest.raises(DestinationRefused):
        Outbound(5, allow_private=False).check(url)


def test_a_name_that_resolves_to_a_private_address_is_refused_and_nothing_is_sent(
    server: tuple[ServerThread, list[str]],
) -> None:
    running, seen = server
    before = len(seen)
    rebinding = Outbound(5, allow_private=False, resolver=lambda host, port: ["127.0.0.1"])
    with pytest.raises(DestinationRefused):
        rebinding.get_json(f"https://ehr.example:{running.port}/small")
    mixed = Outbound(5, allow_private=False, resolver=lambda host, port: ["20.190.128.1", "10.0.0.7"])
    with pytest.raises(DestinationRefused):
        mixed.check("https://ehr.example/fhir")
    assert len(seen) == before
    Outbound(5, allow_private=False, resolver=public).check("https://ehr.example/fhir")  # a public one is fine


def test_link_local_and_metadata_are_refused_even_in_local_runs(server: tuple[ServerThread, list[str]]) -> None:
    local = Outbound(5, allow_private=True)
    for url in ("http://169.254.169.254/metadata", "http://[fe80::1]/", "http://100.100.100.200/"):
        with pytest.raises(DestinationRefused):
            local.check(url)
    metadata = Outbound(5, allow_private=True, resolver=lambda host, port: ["169.254.169.254"])
    with pytest.raises(DestinationRefused):
        metadata.check("http://metadata.example/")
    assert address_refused("::ffff:169.254.169.254", allow_private=True)
    running, _ = server
    assert local.get_json(f"{running.url}/small") == (200, {"ok": True})  # the sandbox on loopback is fine here


def test_answers_over_the_cap_are_refused_compressed_or_not(server: tuple[ServerThread, list[str]]) -> None:
    running, _ = server
    outbound = Outbound(5, allow_private=True)
    for path in ("/large", "/bomb"):
        with pytest.raises(UpstreamError, match="more than 1048576 bytes"):
            outbound.get_json(f"{running.url}{path}")


def test_a_call_is_cut_at_its_overall_deadline(server: tuple[ServerThread, list[str]]) -> None:
    """A server dripping its answer: every read comes in time, but the call as a whole does not (the clock
    moves a second per read here; the deadline is the five-second timeout)."""
    running, _ = server
    ticks = itertools.count()
    outbound = Outbound(5, allow_private=True, monotonic=lambda: float(next(ticks)))
    with pytest.raises(UpstreamError, match="took too long"):
        outbound.get_json(f"{running.url}/drip")
