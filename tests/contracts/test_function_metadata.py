"""The function metadata the Functions host gets from the Python worker (tests/support/function_index.py indexes
function_app as the worker's loader does), checked for what the host would refuse or resolve otherwise: every
binding complete and uniquely named, one trigger per function, routes that compile, do not clash and reach
their own function in the host's order (the dev host's too), connection settings that exist locally and in
infra/, queue names from shared/storage/queue_names.py, NCRONTAB schedules, and auth levels as intended."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import azure.functions as func
from croniter import croniter

from dev.host.host import DevHost, HostKeys
from dev.host.local_settings import NOWHERE, load_values, offline_values
from dev.host.routes import RouteTemplate
from shared.core.geography import Geography
from shared.storage import queue_names
from tests.support.bicep import BicepFile, string_values
from tests.support.function_index import worker_refusals

ROOT = Path(__file__).resolve().parents[2]
MAIN = BicepFile(ROOT / "infra" / "main.bicep")
FUNCTION_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-]{0,127}$")  # the host's function name rule
HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"}

# Every anonymous HTTP function and what authenticates its callers instead of a function key.
ANONYMOUS = {
    "health": "a probe; it answers reachability and poison counts, nothing about patients",
    "portal_api": "Entra ID bearer tokens, checked per route by the portal router",
    "visits_api": "the visit_session cookie of the clinician's EHR launch, or a portal bearer token, per route",
    "openapi": "the public contract of the portal API",
    "launch_provider": "SMART EHR launch: only approved FHIR endpoints, then the EHR's OAuth round trip",
    "launch_patient": "SMART EHR launch: only approved FHIR endpoints, then the EHR's OAuth round trip",
    "launch_callback": "the single-use OAuth state bound to the browser, PKCE and the id_token",
    "launch_microsoft": "the single-use OpenID Connect state, nonce and the organisation's tenant",
    "join": "the HMAC-signed join token in the path",
    "join_page": "the HMAC-signed join token it is posted",
    "device_test": "a static page that checks camera and microphone",
    "survey": "the HMAC-signed survey token it is posted (the page itself holds nothing)",
    "lost_link": "nothing to protect: the same answer whatever the number, limited per number and per address",
    "jwks": "the connector's public keys, which EHRs fetch",
    "meeting_events": "Graph change notifications: validation handshake and clientState",
    "meeting_events_of_older_subscriptions": "the same, for subscriptions an older version made",
    "call_record_events": "Graph change notifications: validation handshake and clientState",
    "receive_hl7": "the HL7-Signature, verified with the endpoint's uploaded certificate",
}


@cache
def metadata() -> tuple[dict[str, Any], ...]:
    """What the worker hands the host, for a deployment with every geography."""
    values = {**offline_values(), "DATA_STORAGE_US": NOWHERE, "DATA_STORAGE_APAC": NOWHERE}
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.function_index"],
        cwd=ROOT,
        env=values,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return tuple(json.loads(result.stdout))


def trigger(function: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(b for b in function["bindings"] if b["type"].endswith("Trigger"))
    return found


def of_type(kind: str) -> list[dict[str, Any]]:
    return [f for f in metadata() if trigger(f)["type"] == kind]


def methods(function: dict[str, Any]) -> set[str]:
    return {m.upper() for m in trigger(function).get("methods") or HTTP_METHODS}


def test_the_worker_loads_every_function() -> None:
    assert len(metadata()) >= 30
    refused = {f["name"]: f["refusals"] for f in metadata() if f["refusals"]}
    assert refused == {}


def test_the_worker_check_refuses_what_the_worker_refuses() -> None:
    app = func.FunctionApp()

    @app.route(route="wrong")
    def wrong_annotation(req: int) -> func.HttpResponse:
        return func.HttpResponse("")

    assert "annotation" in " ".join(worker_refusals(app.get_functions()[0]))


def test_every_binding_is_complete_and_every_function_has_one_trigger() -> None:
    names = [f["name"] for f in metadata()]
    assert len(names) == len(set(n.casefold() for n in names)), "function names must be unique"
    for function in metadata():
        name = function["name"]
        assert FUNCTION_NAME.match(name), f"{name}: not a valid function name"
        bindings = function["bindings"]
        for binding in bindings:
            assert all(isinstance(binding.get(k), str) and binding[k] for k in ("type", "direction", "name")), (
                f"{name}: {binding}"
            )
            assert binding["direction"].upper() in {"IN", "OUT"}, f"{name}: {binding}"
        assert len({b["name"].casefold() for b in bindings}) == len(bindings), f"{name}: binding names repeat"
        triggers = [b for b in bindings if b["type"].endswith("Trigger")]
        assert len(triggers) == 1 and triggers[0]["direction"].upper() == "IN", f"{name}: {len(triggers)} triggers"
        if triggers[0]["type"] == "httpTrigger":  # the host answers through the function's one http output
            outputs = [b for b in bindings if b["type"] == "http"]
            assert len(outputs) == 1 and outputs[0]["direction"].upper() == "OUT", f"{name}: no http output"
        assert function["retry"] is None, f"{name}: a retry policy (neither Flex Consumption queues nor the dev host)"


def test_auth_levels_are_as_intended() -> None:
    http = of_type("httpTrigger")
    anonymous = {f["name"] for f in http if trigger(f)["authLevel"].upper() == "ANONYMOUS"}
    assert anonymous == set(ANONYMOUS), "an anonymous function must say in ANONYMOUS what authenticates it"
    for function in http:
        if function["name"] not in ANONYMOUS:
            assert trigger(function)["authLevel"].upper() in {"FUNCTION", "ADMIN"}, function["name"]
    assert {f["name"]: trigger(f)["authLevel"].upper() for f in http if f["name"] not in ANONYMOUS} == {
        "sms_events": "FUNCTION"  # Event Grid's subscription carries the function key (infra/main.bicep)
    }


def sample_paths(template: str) -> list[str]:
    """Paths the template is meant to take, with values no literal segment uses."""
    paths = [""]
    for index, segment in enumerate(template.strip("/").split("/")):
        if segment.startswith("{*"):
            paths = [p + "/x1/x2" for p in paths] + paths
            continue
        if segment.endswith("?}"):
            paths = [p + "/x1" for p in paths] + paths
            continue
        value = re.sub(r"\{[^}:]+(:int|:long)[^}]*\}", "7", segment)
        value = re.sub(r"\{[^}:]+:guid[^}]*\}", "1b4e28ba-2fa1-11d2-883f-0016d3cca427", value)
        assert not re.search(r"\{[^}]*:", value), f"{template}: add a sample value for its constraint"
        paths = [p + "/" + re.sub(r"\{[^}]+\}", f"x{index}", value) for p in paths]
    return [p.lstrip("/") for p in paths]


def host_route(method: str, path: str) -> str | None:
    """The function the Functions host gives a request: HTTP routes are tried in the order of their function names
    (azure-functions-host issues 3153 and 9876), the first whose template and methods match."""
    for function in sorted(of_type("httpTrigger"), key=lambda f: f["name"].casefold()):
        if RouteTemplate(trigger(function)["route"]).match(path) is not None and method in methods(function):
            return str(function["name"])
    return None


def dev_host() -> DevHost:
    """The dev host serving functions with the same names, routes, methods and auth levels."""
    app = func.FunctionApp()
    for function in of_type("httpTrigger"):
        binding = trigger(function)

        def handler(req: func.HttpRequest) -> func.HttpResponse:
            return func.HttpResponse("")

        handler.__name__ = function["name"]
        app.function_name(function["name"])(
            app.route(
                route=binding["route"],
                methods=binding.get("methods"),
                auth_level=func.AuthLevel[binding["authLevel"].upper()],
            )(handler)
        )
    return DevHost(app, keys=HostKeys((), "unused"), environ={})


def test_routes_compile_do_not_clash_and_reach_their_own_function_on_either_host() -> None:
    http = of_type("httpTrigger")
    host = dev_host()
    try:
        seen: dict[tuple[str, str], str] = {}
        for function in http:
            route = trigger(function)["route"]
            assert not route.lower().startswith("api/"), f"{function['name']}: the route prefix is added by the host"
            assert methods(function) <= HTTP_METHODS, function["name"]
            RouteTemplate(route)  # raises on a template the host's route parser refuses
            shape = re.sub(r"\{([*]?)[^}:?]+", r"{\1", route.strip("/").casefold())
            for method in methods(function):
                clash = seen.setdefault((shape, method), function["name"])
                assert clash == function["name"], f"{function['name']}: the host refuses its route ({clash}'s)"
        for function in http:
            for path in sample_paths(trigger(function)["route"]):
                for method in sorted(methods(function)):
                    assert host_route(method, path) == function["name"], f"{method} /api/{path}"
                    found = host.route(method, path)
                    assert found is not None and found[0].name == function["name"], f"dev host: {method} /{path}"
    finally:
        host.close()


def infra_app_settings() -> set[str]:
    """The app setting names main.bicep gives the function app, each geography's spelled out."""
    module = MAIN.get("module", "functionApp").source
    concat = re.search(r"appSettings:\s*concat\(([^)]*)\)", module)
    assert concat, "main.bicep: the function app's appSettings are no longer one concat(...)"
    names: set[str] = set()
    for variable in (v.strip() for v in concat.group(1).split(",")):
        for name in string_values(MAIN.get("variable", variable).node, "name"):
            names |= {name.replace("${toUpper(geography.name)}", g.value) for g in Geography}
    return names


def test_queue_triggers_use_the_declared_queues_and_connections_that_exist() -> None:
    sample = load_values(ROOT / "local.settings.sample.json")
    in_azure = infra_app_settings()
    queues = of_type("queueTrigger")
    assert queues
    for function in queues:
        name, binding = function["name"], trigger(function)
        connection = binding.get("connection") or "AzureWebJobsStorage"
        queue = binding["queueName"].removesuffix("-poison")
        geography = next((g for g in Geography if name.endswith("_" + g.value.lower())), None)
        if geography is None:
            assert queue in queue_names.APP_QUEUES, f"{name}: queue {binding['queueName']} is not an app queue"
            assert connection == "AzureWebJobsStorage", name
        else:
            assert queue in queue_names.GEOGRAPHY_QUEUES, f"{name}: queue {binding['queueName']} is not per geography"
            assert connection == queue_names.geography_connection(geography), name
        assert connection in sample, f"{name}: {connection} is not in local.settings.sample.json"
        # In Azure the connection is identity-based: <connection>__accountName or __queueServiceUri, with the
        # user-assigned identity's credential and client ID.
        assert in_azure & {f"{connection}__accountName", f"{connection}__queueServiceUri"}, f"{name}: {connection}"
        assert {f"{connection}__credential", f"{connection}__clientId"} <= in_azure, f"{name}: {connection}"


def test_timer_schedules_are_six_field_ncrontab() -> None:
    for function in of_type("timerTrigger"):
        schedule = trigger(function)["schedule"]
        assert len(schedule.split()) == 6 and croniter.is_valid(schedule, second_at_beginning=True), schedule


def test_only_triggers_the_dev_host_serves_are_used() -> None:
    assert {trigger(f)["type"] for f in metadata()} == {"httpTrigger", "queueTrigger", "timerTrigger"}
