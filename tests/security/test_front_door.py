"""Front Door in front of the connector (enableRateLimit), held as a caller would try to get past it: every anonymous
route the app serves is under the per-client rate limit (or exempt for a stated reason), and the function app
answers only requests that come through this Front Door profile (its service tag and its X-Azure-FDID), so calling
the app's own host name skips nothing."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.bicep import BicepFile

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
INFRA = ROOT / "infra"
MAIN = BicepFile(INFRA / "main.bicep")
RATE_LIMIT = BicepFile(INFRA / "modules" / "ratelimit.bicep")
ACCESS = INFRA / "modules" / "frontdooraccess.bicep"

# Anonymous routes outside the rate limit, and why each costs an attacker's flood nothing worth limiting.
EXEMPT = {
    "portal/{*rest}": "every call needs an Entra ID token, checked before any work; admins often share an address",
    "openapi.json": "a static document",
    "device-test": "a static page",
    "health": "Front Door's own health probe calls it",
}


def _limited_prefixes() -> list[str]:
    rule = RATE_LIMIT.get("resource", "waf").source
    assert "ruleType: 'RateLimitRule'" in rule and "rateLimitDurationInMinutes: 1" in rule
    assert "rateLimitThreshold: requestsPerMinute" in rule and "action: 'Block'" in rule
    assert "matchVariable: 'RequestUri'" in rule and "operator: 'Contains'" in rule
    values = rule.split("matchValue: [", 1)[1].split("]", 1)[0]
    return re.findall(r"'([^']+)'", values)


def _anonymous_routes() -> list[str]:
    """The route of every HTTP trigger the Functions host lets in without a key, as the triggers declare them."""
    declared = re.compile(r'@bp\.route\(route="([^"]+)"[^)]*auth_level=func\.AuthLevel\.ANONYMOUS\)')
    return [m.group(1) for path in sorted(FUNCTIONS.rglob("*.py")) for m in declared.finditer(path.read_text())]


def test_every_anonymous_route_is_rate_limited_or_exempt_for_a_reason() -> None:
    limited = _limited_prefixes()
    routes = _anonymous_routes()
    assert {"join", "join/{token}", "visits/{*rest}", ".well-known/jwks/{tenant_id}"} <= set(routes)
    uncovered = []
    for route in routes:
        path = "/api/" + route.split("{", 1)[0]
        if route not in EXEMPT and not any(prefix in path or path.rstrip("/") == prefix for prefix in limited):
            uncovered.append(route)
    assert uncovered == [], f"anonymous routes outside Front Door's rate limit: {uncovered}"


def test_front_door_sends_the_api_to_the_function_app_with_its_id() -> None:
    routes = RATE_LIMIT.get("resource", "apiRoute").source
    assert "'/api/*'" in routes and "id: apiOriginGroup.id" in routes
    assert "hostName: apiHostName" in RATE_LIMIT.get("resource", "apiOrigin").source
    assert RATE_LIMIT.get("output", "frontDoorId").source.endswith("= profile.properties.frontDoorId")
    limit = MAIN.get("module", "rateLimit").source
    assert "apiHostName: functionApp.outputs.defaultHostname" in limit


def test_the_function_app_answers_only_this_front_door_when_the_limit_is_on() -> None:
    wiring = MAIN.get("module", "frontDoorAccess")
    assert MAIN.module_path(wiring) == ACCESS
    assert "if (enableRateLimit)" in wiring.source.split("{", 1)[0]
    assert "frontDoorId: rateLimit!.outputs.frontDoorId" in wiring.source
    assert "functionAppName: functionApp.outputs.name" in wiring.source
    access = BicepFile(ACCESS).get("resource", "access").source
    assert "name: 'web'" in access and "ipSecurityRestrictionsDefaultAction: 'Deny'" in access
    rules = access.split("ipSecurityRestrictions: [", 1)[1]
    front_door = rules.split("}\n      {", 1)[0]
    assert "ipAddress: 'AzureFrontDoor.Backend'" in front_door and "tag: 'ServiceTag'" in front_door
    # The profile's own ID, not any Front Door's:
    assert "'x-azure-fdid': [\n            frontDoorId\n          ]" in front_door
    allowed = re.findall(r"ipAddress: '([^']+)'", rules)
    assert allowed == ["AzureFrontDoor.Backend", "AzureEventGrid"]  # and Event Grid's SMS events (function key)
