"""The app's log records never carry the URLs of its storage, EHR and Graph requests: table row keys hold the
organisations' sender numbers and EHR user IDs, and Azure SDK and httpx log each request's URL at INFO. The soak
(bench/soak.py) found the organisations' numbers in the instances' logs this way."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest

from dev.host.azurite import Azurite
from shared.core import telemetry
from shared.messaging.models import PhoneNumber
from shared.messaging.tables import PhoneNumberRepository
from shared.runtime import Runtime

SENDER = "+18335550177"


def test_storage_and_http_requests_log_no_url(
    runtime: Runtime, azurite: Azurite, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry.configure({})
    numbers = runtime.platform.tables.control(PhoneNumberRepository)
    with caplog.at_level(logging.DEBUG):
        numbers.find("tenant-logs", SENDER)  # a point read: the row key is in the URL
        numbers.upsert(
            PhoneNumber(
                tenant_id="tenant-logs",
                number=SENDER,
                country_code="US",
                number_type="toll_free",
                acquired_at=datetime.now(UTC),
                acquired_by="admin",
            )
        )
        numbers.find("tenant-logs", SENDER)
        httpx.get(f"http://127.0.0.1:{azurite.ports['blob']}/?number={SENDER}", timeout=5)  # as EHR and Graph calls
    said = "\n".join(record.getMessage() for record in caplog.records)
    assert SENDER not in said and SENDER.lstrip("+") not in said and "%2B18335550177" not in said
