"""SMART discovery: `{base}/.well-known/smart-configuration`, else (Epic before Aug 2021) the CapabilityStatement
at `{base}/metadata` with its oauth-uris security extension. Results are cached per base URL."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from shared.core.clock import Clock
from shared.core.errors import Unprocessable, UpstreamError
from shared.core.outbound import DestinationRefused, Outbound

log = logging.getLogger(__name__)
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


class SmartConfiguration(BaseModel):
    source: Literal["smart-configuration", "metadata"]
    authorization_endpoint: str
    token_endpoint: str
    issuer: str | None = None
    jwks_uri: str | None = None
    capabilities: list[str] = Field(default_factory=list)
    code_challenge_methods_supported: list[str] = Field(default_factory=list)
    grant_types_supported: list[str] = Field(default_factory=list)
    scopes_supported: list[str] = Field(default_factory=list)

    @property
    def authorize_post(self) -> bool:
        """The EHR takes the authorize request as a form POST (SMART 2 capability `authorize-post`)."""
        return "authorize-post" in self.capabilities


class DiscoveryFailed(Unprocessable):
    """The base URL answers no usable SMART discovery; `detail` says what was tried and what answered."""


def _absolute(value: Any) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value if isinstance(item, str | int)] if isinstance(value, list) else []


def _objects(value: Any) -> list[dict[str, Any]]:
    """The JSON objects of a list (a server's malformed document has other things where objects belong)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _from_well_known(body: Any) -> tuple[SmartConfiguration | None, str]:
    if not isinstance(body, dict):
        return None, "not a JSON object"
    token = _absolute(body.get("token_endpoint"))
    authorize = _absolute(body.get("authorization_endpoint"))
    missing = [name for name, value in (("authorization_endpoint", authorize), ("token_endpoint", token)) if not value]
    if missing:
        return None, f"missing {', '.join(missing)}"
    methods = _strings(body.get("code_challenge_methods_supported"))
    if "S256" not in methods or "plain" in methods:
        return None, "code_challenge_methods_supported must list S256 and not plain"
    return (
        SmartConfiguration(
            source="smart-configuration",
            authorization_endpoint=str(authorize),
            token_endpoint=str(token),
            issuer=_absolute(body.get("issuer")),
            jwks_uri=_absolute(body.get("jwks_uri")),
            capabilities=_strings(body.get("capabilities")),
            code_challenge_methods_supported=methods,
            grant_types_supported=_strings(body.get("grant_types_supported")),
            scopes_supported=_strings(body.get("scopes_supported")),
        ),
        "ok",
    )


def _from_metadata(body: Any) -> tuple[SmartConfiguration | None, str]:
    if not isinstance(body, dict) or body.get("resourceType") != "CapabilityStatement":
        return None, "not a CapabilityStatement"
    for rest in _objects(body.get("rest")):
        security = rest.get("security")
        for extension in _objects(security.get("extension") if isinstance(security, dict) else None):
            if extension.get("url") != OAUTH_URIS:
                continue
            uris = {e.get("url"): _absolute(e.get("valueUri")) for e in _objects(extension.get("extension"))}
            if uris.get("authorize") and uris.get("token"):
                return (
                    SmartConfiguration(
                        source="metadata",
                        authorization_endpoint=str(uris["authorize"]),
                        token_endpoint=str(uris["token"]),
                        code_challenge_methods_supported=["S256"],
                    ),
                    "ok",
                )
    return None, "no oauth-uris security extension with authorize and token URLs"


class SmartDiscovery:
    def __init__(self, outbound: Outbound, clock: Clock, ttl: timedelta) -> None:
        self._outbound = outbound
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[SmartConfiguration, datetime]] = {}

    def discover(self, base_url: str, client_id: str | None = None, *, fresh: bool = False) -> SmartConfiguration:
        now = self._clock.now()
        with self._lock:
            cached = self._cache.get(base_url)
        if cached and not fresh and now - cached[1] < self._ttl:
            return cached[0]
        attempts: list[str] = []  # for the log only: an answer's details would make this a port scanner
        for suffix, parse, headers in (
            ("/.well-known/smart-configuration", _from_well_known, {}),
            ("/metadata", _from_metadata, {"Epic-Client-ID": client_id} if client_id else {}),
        ):
            url = base_url + suffix
            try:
                status, body = self._outbound.get_json(url, headers=headers)
            except DestinationRefused:
                attempts.append(f"{url} is not a destination the connector calls")
                break  # one generic sentence below: no oracle of what answers where
            except UpstreamError as failure:
                # The server itself cannot be reached (refused, reset, or too slow): asking it again at another
                # path would only double the wait (the portal's answer stays within one call's deadline).
                log.info("SMART discovery failed for %s: %s", base_url, failure.detail)
                raise DiscoveryFailed(
                    f"The FHIR server at {urlsplit(base_url).hostname} could not be reached: it refused the connection "
                    "or did not answer in time. Check the URL, and that the server accepts connections from the "
                    "connector.",
                    {"base_url": "could not be reached"},
                ) from None
            if status != 200:
                attempts.append(f"{url} answered HTTP {status}")
                continue
            configuration, reason = parse(body)
            if configuration is None:
                attempts.append(f"{url} answered, but {reason}")
                continue
            try:
                for endpoint in (configuration.authorization_endpoint, configuration.token_endpoint):
                    self._outbound.check(endpoint)
                if configuration.jwks_uri:
                    self._outbound.check(configuration.jwks_uri)
            except UpstreamError:
                attempts.append(f"{url} names an endpoint the connector may not call")
                continue
            with self._lock:
                self._cache[base_url] = (configuration, now)
            return configuration
        log.info("SMART discovery failed for %s: %s", base_url, "; ".join(attempts))
        raise DiscoveryFailed(
            "This FHIR base URL is not a SMART endpoint: neither its .well-known/smart-configuration nor its "
            "metadata gave a usable SMART configuration (https, PKCE S256, authorize and token endpoints).",
            {"base_url": "not a SMART endpoint"},
        )
