"""Call events the EHR has taken are stored through a storage outage (the soak stops Azurite for 10 s): were they
given up, the queue's redelivery would write them back to the EHR a second time."""

from __future__ import annotations

from datetime import UTC, datetime

from azure.data.tables import TableServiceClient

from dev.host.azurite import Azurite
from shared.visits.models import VisitEvent
from shared.visits.tables import VisitEventRepository
from shared.writeback.event_rows import store_patiently


def test_events_written_back_are_stored_once_storage_is_back() -> None:
    azurite = Azurite(accounts=("connectoreu",), persistent=True).start()
    try:
        service = TableServiceClient.from_connection_string(azurite.connection_string("connectoreu"))
        rows = VisitEventRepository(service.create_table("visitevents"))
        event = VisitEvent(
            appointment_key="k" * 40,
            id="n1|0",
            endpoint_id="e1",
            kind="participant_joined",
            at=datetime.now(UTC),
            written_back=True,
        )
        azurite.halt()  # the EHR has answered; now storage is gone
        waits: list[float] = []

        def wait(seconds: float) -> None:
            waits.append(seconds)
            if len(waits) == 2:
                azurite.resume()

        assert store_patiently(rows, [event], [], {}, written=True, sleep=wait) == [event]
        assert waits == [1.0, 2.0]
        assert [e.id for e in rows.iterate(event.appointment_key)] == ["n1|0"]
    finally:
        azurite.stop()
