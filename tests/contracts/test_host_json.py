"""host.json against the schema SchemaStore publishes for it (vendored in functions_host/, with its source and
licence; functions_host/regenerate.py refreshes it): a setting the Functions host does not know, or a value of the
wrong shape, fails here rather than being ignored or refused by the host in Azure."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.json_schema import Validator

ROOT = Path(__file__).resolve().parents[2]
VENDORED = Path(__file__).resolve().parent / "functions_host"


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(json.loads((VENDORED / "host.schema.json").read_text()))


def host_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "host.json").read_text())
    return data


def test_the_vendored_schema_says_where_it_comes_from() -> None:
    source = json.loads((VENDORED / "SOURCE.json").read_text())
    assert source["repository"] == "https://github.com/SchemaStore/schemastore"
    assert len(source["commit"]) == 40
    assert source["license"] == "Apache-2.0"
    assert "Apache License" in (VENDORED / "LICENSE").read_text()


def test_host_json_is_valid_under_the_published_schema(validator: Validator) -> None:
    assert validator.errors(host_json()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda h: h["extensions"]["queues"].update(maxDequeueCount="five"), "/extensions/queues/maxDequeueCount"),
        (lambda h: h["extensions"]["queues"].update(visibilityTimeout="30 seconds"), "visibilityTimeout"),
        (lambda h: h["extensions"]["queues"].update(retries=3), "'retries' is not declared"),
        (lambda h: h["extensions"]["queues"].update(batchSize=64), "/extensions/queues/batchSize"),
        (lambda h: h["extensions"]["http"].update(routePrefix=7), "/extensions/http/routePrefix"),
        (lambda h: h.update(version="3.0"), "/version"),
        (lambda h: h.update(functionTimeout="forever"), "/functionTimeout"),
        (lambda h: h["logging"]["logLevel"].update(default="Verbose"), "/logging/logLevel/default"),
    ],
    ids=["count", "timespan", "unknown-setting", "batch-size", "prefix", "version", "timeout", "log-level"],
)
def test_a_host_json_the_host_would_refuse_fails(validator: Validator, change: Any, expected: str) -> None:
    broken = copy.deepcopy(host_json())
    change(broken)
    errors = validator.errors(broken)
    assert errors, "the validator accepted a host.json the schema refuses"
    assert expected in " ".join(errors)


def test_the_dev_host_reads_the_same_queue_settings_the_schema_declares() -> None:
    """The dev host honours these host.json settings (dev/host/host.py HostConfig); each is a setting the real
    host declares for its queues extension, so a renamed one cannot silently fall back to a default locally."""
    from dev.host.host import HostConfig

    declared = json.loads((VENDORED / "host.schema.json").read_text())["definitions"]["queues-extension-v2"]
    config = HostConfig.load(ROOT / "host.json")
    queues = host_json()["extensions"]["queues"]
    assert {"maxDequeueCount", "visibilityTimeout", "batchSize", "maxPollingInterval"} <= set(declared["properties"])
    assert config.queues.max_dequeue_count == queues["maxDequeueCount"]
    assert config.queues.batch_size == queues["batchSize"]
    assert config.route_prefix == host_json()["extensions"]["http"]["routePrefix"]
