"""EHR writeback throughput: meeting events from the participant-events queue (Azurite) through the processor
(visit events stored, report figures updated) to the sandbox EHR, over HTTP with a SMART backend-services
token, for each adapter. Events/s counts events written back, from the first dequeue to the empty queue.

Run: make bench   (or .venv/bin/python bench/writeback.py [--visits 50 --events 10])
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.counting import counting, report  # noqa: E402
from bench.harness import Harness  # noqa: E402
from bench.stubs import BACKEND_CLIENT  # noqa: E402
from dev.host.queues import QueueOptions  # noqa: E402
from shared.setup.tables import OrganisationRepository  # noqa: E402
from shared.storage.queue_names import PARTICIPANT_EVENTS  # noqa: E402
from shared.visits.models import MeetingLink, VisitReferences  # noqa: E402
from shared.visits.tables import MeetingLinkRepository  # noqa: E402
from shared.writeback.models import MeetingEventMessage  # noqa: E402


def messages(tenant: str, endpoint: str, key: str, count: int, start: datetime) -> list[MeetingEventMessage]:
    """A visit's roster: participants joining and leaving in turn (one connect or disconnect each)."""
    found = []
    for index in range(count):
        person = {"Id": f"p{index // 2}", "Identity": {"Guest": {"Id": f"g{index // 2}"}}}
        side = "activeParticipants@joined" if index % 2 == 0 else "activeParticipants@exited"
        moment = start + timedelta(seconds=index)
        found.append(
            MeetingEventMessage(
                event_id=str(uuid.uuid4()),
                subscription_id="bench",
                tenant_id=tenant,
                endpoint_id=endpoint,
                appointment_key=key,
                change_type="updated",
                resource="communications/onlineMeetings/bench/meetingCallEvents",
                data={
                    "eventType": "Microsoft.Communication.CallRosterUpdate",
                    "eventDateTime": moment.isoformat().replace("+00:00", "Z"),
                    side: [person],
                },
                received_at=moment,
            )
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=50)
    parser.add_argument("--events", type=int, default=10, help="connects and disconnects per visit")
    args = parser.parse_args()
    # Each batch of 16 in parallel, as the Functions host runs it (the dev host's default is one at a time).
    # The EHR in a process of its own, as it is in Azure: what is measured is the connector's work.
    with Harness({}, queue_options=QueueOptions(parallel=True), ehr_process=True) as harness:
        assert harness.remote_ehr is not None
        endpoint = harness.approved_endpoint()
        runtime = harness.runtime
        organisation = runtime.platform.tables.control(OrganisationRepository).get(harness.tenant, "organisation")
        links = runtime.platform.tables.data(organisation, MeetingLinkRepository)
        total = args.visits * args.events
        print(f"EHR writeback, {args.visits} visits x {args.events} events, queue -> processor -> sandbox EHR")
        for adapter in ("epic", "fhir"):
            harness.portal(
                "PUT", f"endpoints/{endpoint}/writeback", json={"adapter": adapter, "client_id": BACKEND_CLIENT}
            )
            queued = []
            for visit in range(args.visits + 1):  # the first warms the worker (its token, its caches), unmeasured
                key = uuid.uuid4().hex + uuid.uuid4().hex[:8]
                appointment = f"A{visit % 4 + 1001}"  # the sandbox's sample appointments
                links.upsert(
                    MeetingLink(
                        endpoint_id=endpoint,
                        appointment_key=key,
                        meeting_id=key,
                        organizer_id="o",
                        join_url="https://x/j",
                        browser_join_url="https://x/b",
                        created_at=datetime.now(UTC),
                        references=VisitReferences(csn=str(900000 + visit), appointment_ids=[appointment]),
                    )
                )
                queued.extend(messages(harness.tenant, endpoint, key, args.events, datetime.now(UTC)))
            geography, queues = organisation.geography, runtime.platform.geography_queues  # as the webhook queues
            for message in queued[: args.events]:
                queues.send(geography, PARTICIPANT_EVENTS, message)
            while harness.pump(QueueOptions()):  # one at a time: a cold token request is not the measure
                pass
            # The visits at once, as a clinic's afternoon is: their events interleaved in the queue.
            for index in range(args.events):
                for message in queued[args.events + index :: args.events]:
                    queues.send(geography, PARTICIPANT_EVENTS, message)
            began = time.perf_counter()
            with counting(harness.remote_ehr) as work:
                while harness.pump():
                    pass
            elapsed = time.perf_counter() - began
            calls = {" ".join(key[1:]): n for key, n in work.counts.items() if key[0] == "ehr"}
            tokens = calls.pop("POST token", 0)
            written = sum(calls.values())  # the EHR's calls other than tokens: one writeback per event
            assert written == total, (calls, total)
            print(
                f"  {adapter:<5} {total / elapsed:8.0f} events/s  ({written} writebacks ({', '.join(calls)}) in "
                f"{elapsed:.1f} s, {tokens} token request)"
            )
            report(f"writeback event ({adapter})", work, written, elapsed / written)


if __name__ == "__main__":
    main()
