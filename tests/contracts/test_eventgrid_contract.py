"""What the tests send to our webhooks as Microsoft would, held to Microsoft's descriptions: the Event Grid events
from Azure Communication Services (`POST /api/events/sms`: the subscription validation, SMS delivery reports,
received SMS) to the Azure SDK's system event models (`eventgrid_acs_extract.json`), and Graph's change
notifications (`POST /api/events/meetings`, `/api/events/callrecords`) to Graph's v1.0 changeNotificationCollection.
The builders in tests/support/notifications.py are the one place such payloads are written (the last test holds
tests/ and dev/ to it); the Graph stub's and the dev meeting page's own deliveries are in test_graph_contract.py."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from shared.messaging.delivery import DELIVERY, RECEIVED, VALIDATION
from tests.conftest import ROOT
from tests.contracts.graph_model import graph_v1
from tests.support.notifications import (
    change_notification,
    sms_delivery_report,
    sms_received,
    subscription_validation,
)

EXTRACT = Path(__file__).with_name("eventgrid_acs_extract.json")
BUILDERS = "tests/support/notifications.py"


@cache
def extract() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(EXTRACT.read_text(encoding="utf-8"))
    return loaded


def problems(value: Any, written: str, where: str = "$") -> list[str]:
    """Every way `value` breaks the model or type `written`: a required property missing, a property the model
    does not declare, a value of another type."""
    models = extract()["models"]
    if written.startswith("Sequence<"):
        if not isinstance(value, list):
            return [f"{where}: expected an array"]
        return [p for i, item in enumerate(value) for p in problems(item, written[9:-1], f"{where}[{i}]")]
    simple = {
        "String": lambda v: isinstance(v, str),
        "Number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Boolean": lambda v: isinstance(v, bool),
        "Dictionary": lambda v: isinstance(v, dict),
        "DateTime": lambda v: isinstance(v, str) and "T" in v and _is_datetime(v),
    }
    if written in simple:
        return [] if simple[written](value) else [f"{where}: {value!r} is not a {written}"]
    if not isinstance(value, dict):
        return [f"{where}: expected a {written} object"]
    model = models[written]
    found = [
        f"{where}.{name}: required by {written}" for name, p in model.items() if p.get("required") and name not in value
    ]
    for name, item in value.items():
        if name not in model:
            found.append(f"{where}.{name}: not declared on {written}")
        elif item is not None:
            found += problems(item, model[name]["type"], f"{where}.{name}")
    return found


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def event_problems(event: dict[str, Any]) -> list[str]:
    data_model = extract()["events"].get(event.get("eventType"))
    if data_model is None:
        return [f"$.eventType: {event.get('eventType')!r} is not one of {sorted(extract()['events'])}"]
    return problems(event, extract()["envelope"]) + problems(event.get("data"), data_model, "$.data")


def test_the_extract_names_its_source() -> None:
    source = extract()["source"]
    assert source["package"] == "npm @azure/eventgrid@5.12.0"
    licence = EXTRACT.with_suffix(".LICENSE").read_text()
    assert source["integrity"] in licence and "MIT License" in licence
    assert set(extract()["events"]) == {VALIDATION, DELIVERY, RECEIVED}  # the events the connector takes


@pytest.mark.parametrize(
    "event",
    [
        subscription_validation(str(uuid.uuid4())),
        sms_delivery_report(
            message_id="m",
            sender="+18335550100",
            to="+12175550123",
            status="Delivered",
            details="No error.",
            tag="t|e|m",
        ),
        sms_delivery_report(
            message_id="m", sender="+18335550100", to="+12175550123", status="Failed", details="Blocked.", tag="t|e|m"
        ),
        sms_received(message_id="in-1", sender="+12175550123", to="+18335550100", message="STOP"),
    ],
    ids=["validation", "delivered", "failed", "received"],
)
def test_the_event_grid_events_the_tests_send_are_acs_events(event: dict[str, Any]) -> None:
    found = event_problems(event)
    assert not found, "\n".join(found)


def test_the_checks_find_what_event_grid_would_not_send() -> None:
    """What the tests sent before this check: no subject, time or data version, a delivery report without its
    attempts, a received SMS without its segment count, a validation without its URL."""
    old = {
        "id": "2",
        "eventType": DELIVERY,
        "data": {
            "messageId": "m",
            "from": "+1",
            "to": "+1",
            "deliveryStatus": "Delivered",
            "deliveryStatusDetails": "x",
        },
    }
    assert {p.split(":")[0] for p in event_problems(old)} == {
        "$.subject",
        "$.eventTime",
        "$.dataVersion",
        "$.data.deliveryAttempts",
    }
    received = sms_received(message_id="m", sender="+1", to="+1", message="STOP")
    del received["data"]["segmentCount"]
    assert [p.split(":")[0] for p in event_problems(received)] == ["$.data.segmentCount"]
    validation = subscription_validation("code")
    validation["data"] = {"validationCode": "code"}
    assert [p.split(":")[0] for p in event_problems(validation)] == ["$.data.validationUrl"]


def test_the_change_notifications_the_tests_send_are_graphs() -> None:
    notification = change_notification(
        subscription_id=str(uuid.uuid4()),
        client_state="secret",
        resource="/communications/callRecords",
        expires="2026-12-09T10:00:00Z",
        change_type="created",
        data={"id": str(uuid.uuid4()), "@odata.type": "#microsoft.graph.callrecord"},
    )
    found = graph_v1().check({"value": [notification]}, "microsoft.graph.changeNotificationCollection", required=True)
    assert not found, "\n".join(found)


def test_microsofts_payloads_are_built_only_by_the_checked_builders() -> None:
    """A payload written by hand elsewhere in tests/ or dev/ would escape these checks (negative tests use the
    builders and break one part; the dev meeting page's own are checked in test_graph_contract.py)."""
    allowed = {BUILDERS, "dev/fakes/event_grid.py", "dev/fakes/meeting_room.py"}
    pattern = re.compile(r'"(Microsoft\.Communication\.SMS\w+|Microsoft\.EventGrid\.\w+Event)"|"subscriptionId":')
    written = sorted(
        str(path.relative_to(ROOT))
        for top in ("tests", "dev")
        for path in (ROOT / top).rglob("*.py")
        if str(path.relative_to(ROOT)) not in allowed
        and not str(path.relative_to(ROOT)).startswith("tests/contracts/")
        and pattern.search(path.read_text(encoding="utf-8"))
    )
    assert written == []
