"""infra/ against Azure's published resource type descriptions (Azure/bicep-types-az, what the Bicep compiler
checks against; the extract in azure_resources/, refreshed by azure_resources/regenerate.py): every resource type
exists at the API version we name, every property our Bicep sets is declared for that version, with a value of
the declared type, recursively where types are declared, and none is read-only. Values the source computes
(parameters, calls, other resources' outputs) are left to the deployment."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.support.bicep_resources import (
    Either,
    Interpolated,
    Resource,
    ResourceFunctionCall,
    Unknown,
    resource_function_calls,
    resources,
    variables,
)

ROOT = Path(__file__).resolve().parents[2]
VENDORED = Path(__file__).resolve().parent / "azure_resources"
PATHS = sorted((ROOT / "infra").rglob("*.bicep"))
RESOURCES = list(resources(PATHS))
CALLS = list(resource_function_calls(PATHS))
READ_ONLY = 2  # bicep-types property flags: 1 required, 2 read-only, 4 write-only, 8 deploy-time constant
BICEP_KEYWORDS = {"parent", "scope", "dependsOn"}  # a resource's keys that Bicep itself takes, not the API


@cache
def extract() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VENDORED / "types.json").read_text())
    return document


def check(value: Any, type_id: int, at: str) -> Iterator[str]:
    """What in `value` the declared type does not allow."""
    declared = extract()["types"][type_id]
    kind = declared["kind"]
    if isinstance(value, Unknown) or value is None or kind == "any":
        return
    if isinstance(value, Either):
        for branch in value.branches:
            yield from check(branch, type_id, at)
        return
    if kind == "union":
        results = [list(check(value, element, at)) for element in declared["elements"]]
        if all(results):
            yield min(results, key=lambda errors: len(errors))[0]
        return
    if kind in {"object", "discriminated"}:
        if not isinstance(value, dict):
            yield f"{at}: {declared['name']} is an object, not {describe(value)}"
            return
        yield from check_object(value, declared, at)
        return
    if kind == "array":
        if not isinstance(value, list):
            yield f"{at}: an array is declared, not {describe(value)}"
            return
        for index, item in enumerate(value):
            yield from check(item, declared["items"], f"{at}[{index}]")
        return
    if kind == "literal":
        if isinstance(value, str) and value != declared["value"]:
            yield f"{at}: {value!r} is not {declared['value']!r}"
        elif not isinstance(value, str | Interpolated):
            yield f"{at}: a string is declared, not {describe(value)}"
        return
    expected = {"string": (str, Interpolated), "integer": (int,), "boolean": (bool,)}[kind]
    if not isinstance(value, expected) or (kind == "integer" and isinstance(value, bool)):
        yield f"{at}: {kind} is declared, not {describe(value)}"


def check_object(value: dict[str, Any], declared: dict[str, Any], at: str) -> Iterator[str]:
    if declared["kind"] == "discriminated":
        properties = dict(declared["baseProperties"])
        chosen = value.get(declared["discriminator"])
        elements = declared["elements"]
        if isinstance(chosen, str) and chosen not in elements:
            yield f"{at}.{declared['discriminator']}: {chosen!r} is not one of {sorted(elements)}"
            return
        for name in [chosen] if isinstance(chosen, str) else list(elements):
            element = extract()["types"][elements[name]]
            properties.update(element["properties"])
        additional = None
    else:
        properties, additional = declared["properties"], declared.get("additionalProperties")
    for key, item in value.items():
        if "${" in key or (at.count(".") == 0 and key in BICEP_KEYWORDS):
            continue
        spec = properties.get(key)
        if spec is None:
            if additional is not None:
                yield from check(item, additional, f"{at}.{key}")
                continue
            spelled = next((name for name in properties if name.casefold() == key.casefold()), None)
            hint = f" (declared as {spelled!r})" if spelled else ""
            yield f"{at}.{key}: not declared on {declared['name']}{hint}"
            continue
        if spec["flags"] & READ_ONLY:
            yield f"{at}.{key}: read-only on {declared['name']}"
            continue
        yield from check(item, spec["type"], f"{at}.{key}")


def describe(value: Any) -> str:
    return type(value).__name__ if not isinstance(value, str | int | bool) else repr(value)


def test_the_extract_says_where_it_comes_from() -> None:
    source = json.loads((VENDORED / "SOURCE.json").read_text())
    assert source["repository"] == "https://github.com/Azure/bicep-types-az" and len(source["commit"]) == 40
    assert source["license"] == "MIT" and "MIT License" in (VENDORED / "LICENSE").read_text()


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.where)
def test_each_resource_type_exists_at_its_api_version(resource: Resource) -> None:
    name = f"{resource.type}@{resource.api_version}"
    declared = extract()["resources"].get(name)
    assert declared is not None, f"{name} is not published (or run azure_resources/regenerate.py)"
    scopes = declared["readableScopes"] if resource.existing else declared["writableScopes"]
    assert scopes, f"{name} cannot be {'read' if resource.existing else 'deployed'} at this version"


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.where)
def test_every_property_set_is_declared_writable_and_of_its_type(resource: Resource) -> None:
    declared = extract()["resources"][f"{resource.type}@{resource.api_version}"]
    assert list(check(resource.body, declared["body"], resource.symbol)) == []


def test_the_app_settings_main_bicep_hands_the_function_app_are_name_value_pairs() -> None:
    """The one object the modules take from main.bicep rather than spell out: siteConfig.appSettings."""
    app = next(r for r in RESOURCES if r.type == "Microsoft.Web/sites" and not r.existing)
    assert isinstance(app.body["properties"]["siteConfig"]["appSettings"], Unknown)
    types = extract()["types"]
    site = types[extract()["resources"][f"{app.type}@{app.api_version}"]["body"]]
    site_properties = types[site["properties"]["properties"]["type"]]
    site_config = types[site_properties["properties"]["siteConfig"]["type"]]
    app_settings = site_config["properties"]["appSettings"]["type"]
    main = variables(ROOT / "infra" / "main.bicep")
    passed = re.search(r"appSettings:\s*concat\(([^)]*)\)", (ROOT / "infra" / "main.bicep").read_text())
    assert passed, "main.bicep no longer hands the function app one concat(...) of app settings"
    for name in (v.strip() for v in passed.group(1).split(",")):
        assert list(check(main[name], app_settings, f"main.bicep {name}")) == []


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.path.name}:{c.line} {c.function}")
def test_each_resource_function_exists_and_returns_what_we_read(call: ResourceFunctionCall) -> None:
    declared = extract()["functions"].get(call.key)
    assert declared is not None, f"{call.key} is not published (or run azure_resources/regenerate.py)"
    type_id, at = declared["output"], call.function
    for member in call.members:
        output = extract()["types"][type_id]
        assert output["kind"] == "object", f"{at}: {output['kind']} has no member {member}"
        spec = output["properties"].get(member)
        assert spec is not None or "additionalProperties" in output, f"{at}.{member}: not declared"
        type_id, at = spec["type"] if spec else output["additionalProperties"], f"{at}.{member}"


def test_the_check_finds_undeclared_read_only_and_mistyped_properties() -> None:
    body = extract()["resources"]["Microsoft.Storage/storageAccounts@2023-05-01"]["body"]
    wrong = {
        "name": "x",
        "kind": "StorageV2",
        "properties": {
            "allowSharedKeyAcces": False,
            "primaryEndpoints": {},
            "supportsHttpsTrafficOnly": "true",
            "accessTier": "Lukewarm",
        },
    }
    errors = "\n".join(check(wrong, body, "account"))
    assert "account.properties.allowSharedKeyAcces: not declared" in errors
    assert "account.properties.primaryEndpoints: read-only" in errors
    assert "account.properties.supportsHttpsTrafficOnly: boolean is declared" in errors
    assert "account.properties.accessTier: 'Lukewarm'" in errors
