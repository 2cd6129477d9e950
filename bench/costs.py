"""An estimated monthly bill, from the work each unit takes (counted on the wire) and Azure's list prices
(bench/prices.py), for a clinic of 1,000 video visits a month and a health system of 100,000.

A visit here: booked by one SIU message, texted a confirmation and one reminder, opened by the clinician's EHR
launch and the patient's join link, and written back to the EHR (the clinician and the patient each connect and
disconnect: four meeting events). The counts per unit are those tests/integration/test_work_counts.py holds (the
steady state: caches warm); a `make bench` run before this one replaces those it measured (bench/out/counts.json).
Execution time: each execution is billed at least a second (bench/prices.py) on 2,048 MB instances; every unit
measured runs well under a second at one at a time, so the minimum is what is billed. Graph and EHR calls are
counted but not priced (Graph's meeting and call-record APIs are not metered; the EHR is the hospital's own).

Run: make bench (last), or .venv/bin/python bench/costs.py
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import prices  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "counts.json"

_LAUNCH = (
    "function launch_provider, function launch_callback, function meeting_events, "
    "storage app launchstates insert, storage app launchstates read, "
    "storage app launchstates delete, ehr POST token, storage eu appointments read, storage eu ehrusers read, "
    "storage eu meetinglinks read, graph POST createOrGet, graph PATCH onlineMeetings, storage eu meetinglinks insert, "
    "graph POST subscriptions, storage eu meetingsubscriptions upsert"
)
_JOIN = (
    "function join_page*2, storage eu appointments read, storage eu meetinglinks read, graph POST createOrGet, "
    "graph PATCH onlineMeetings, storage eu meetinglinks insert, graph POST subscriptions, function meeting_events, "
    "storage eu meetingsubscriptions upsert, storage eu visitevents upsert"
)
_TEXT = (
    "function send_texts_eu, storage host sms-outbound delete, storage eu appointments read, storage eu optouts read, "
    "storage eu meetinglinks read, storage eu smsmessages read, storage eu smsmessages insert, "
    "storage eu smsmessages upsert, sms segments*2"
)
_HELD = {
    "launch": _LAUNCH,
    "join": _JOIN,
    "SIU received": "function receive_hl7, storage eu hl7-appointments put",
    "SIU applied": (
        "function apply_appointments_eu, storage host hl7-appointments delete, storage eu appointments read, "
        "storage eu appointments upsert, storage eu reminderindex delete, storage eu reminderindex upsert, "
        "storage eu sms-outbound put"
    ),
    "text": _TEXT,
    # A tick's reads are shared by every reminder due that minute (the bench measures the share); one here.
    "reminder (its tick's share)": (
        "storage eu remindercursor read, storage eu reminderindex query, storage eu reminders-due put, "
        "storage eu remindercursor upsert"
    ),
    "reminder (its fan-out's share)": (
        "function queue_due_reminders_eu, storage host reminders-due delete, storage eu sms-outbound put, "
        "storage eu reminderindex batch"
    ),
    "meeting event": ("function meeting_events, storage eu participant-events put"),
    "writeback event (epic)": (
        "function process_participant_event_eu, storage host participant-events delete, "
        "storage eu meetinglinks read, storage eu visitevents query, storage eu visitevents insert, "
        "storage eu visitsummaries upsert, ehr POST SetExternalConnectionStatus"
    ),
    "Teams call that is not a visit": (
        "function call_record_events, storage app call-records put, function process_call_record, "
        "storage host call-records delete, graph GET callRecords, storage eu meetingjoins read"
    ),
}
VISIT = {
    "launch": 1,
    "join": 1,
    "SIU received": 1,
    "SIU applied": 1,
    "text": 2,  # the confirmation and the reminder
    "reminder (its tick's share)": 1,
    "reminder (its fan-out's share)": 1,
    "meeting event": 4,
    "writeback event (epic)": 4,
}
SCENARIOS = (("clinic", 1_000, 1), ("health system", 100_000, 20))
"""(name, video visits a month, toll-free numbers: assumed one per 5,000 visits, at 200 texts a minute each)."""
# Timers that run whatever the visits: executions a month (every minute, two every 15 minutes, every 30, hourly),
# and the idle reminder tick's three table transactions a minute (cursor read, index query, cursor write).
TIMER_EXECUTIONS = 43_200 + 2 * 2_880 + 1_440 + 720
IDLE_TICK_TABLE_TRANSACTIONS = 3 * 43_200
QUEUE_CLASS_1_KINDS = {"put", "update", "delete", "clear", "create", "delete-queue"}


def parse(held: str) -> dict[str, float]:
    counts: dict[str, float] = defaultdict(float)
    for item in held.split(", "):
        name, _, times = item.partition("*")
        counts[name] += float(times or 1)
    return dict(counts)


def units() -> dict[str, dict[str, float]]:
    """Counts per unit: as the tests hold them, replaced by what the last bench run measured."""
    found = {name: parse(held) for name, held in _HELD.items()}
    if OUT.exists():
        for name, counts in json.loads(OUT.read_text()).items():
            if name in found:
                found[name] = {key: float(n) for key, n in counts.items()}
    return found


def bill(counts: dict[str, float]) -> dict[str, float]:
    """The priced quantities of some work: executions, GB-s, table transactions, queue operations by class, Key
    Vault operations, SMS segments."""
    total: dict[str, float] = defaultdict(float)
    executions = sum(n for key, n in counts.items() if key.startswith("function "))
    total["executions"] += executions
    seconds = counts.get("seconds", 0.0)
    per_execution = seconds / executions if executions else 0.0
    total["GB-s"] += executions * max(prices.FLEX_MINIMUM_SECONDS, per_execution) * prices.INSTANCE_MEMORY_GB
    for key, n in counts.items():
        parts = key.split(" ")
        if parts[0] == "storage":
            kind = parts[3]
            if "-" in parts[2]:  # queue names have one; table names are letters and digits
                total["queue class 1" if kind in QUEUE_CLASS_1_KINDS else "queue class 2"] += n
                if parts[1] == "host" and kind == "delete":
                    total["queue class 2"] += n  # the host received it first (one receive each, at worst)
            else:
                total["table transactions"] += n
        elif parts[0] == "secrets":
            total["Key Vault operations"] += n
        elif key == "sms segments":
            total["SMS segments"] += n
    return dict(total)


def monthly(visits: int, numbers: int, per_unit: dict[str, dict[str, float]]) -> dict[str, float]:
    quantities: dict[str, float] = defaultdict(float)
    for unit, per_visit in VISIT.items():
        for name, n in bill(per_unit[unit]).items():
            quantities[name] += n * per_visit * visits
    quantities["executions"] += TIMER_EXECUTIONS
    quantities["GB-s"] += TIMER_EXECUTIONS * prices.FLEX_MINIMUM_SECONDS * prices.INSTANCE_MEMORY_GB
    quantities["table transactions"] += IDLE_TICK_TABLE_TRANSACTIONS
    return {
        "Functions executions": prices.FLEX_EXECUTIONS.of(
            max(0, quantities["executions"] - prices.FLEX_FREE_EXECUTIONS)
        ),
        "Functions execution time": prices.FLEX_GB_SECOND.of(max(0, quantities["GB-s"] - prices.FLEX_FREE_GB_SECONDS)),
        "Table transactions": prices.TABLE_TRANSACTIONS.of(quantities["table transactions"]),
        "Queue operations": prices.QUEUE_CLASS_1.of(quantities["queue class 1"])
        + prices.QUEUE_CLASS_2.of(quantities["queue class 2"]),
        "Key Vault operations": prices.KEY_VAULT_OPERATIONS.of(quantities["Key Vault operations"]),
        "SMS (segments and carrier surcharge)": prices.SMS_SEND_SEGMENT.of(quantities["SMS segments"])
        + prices.SMS_SEND_SURCHARGE.of(quantities["SMS segments"]),
        "Toll-free numbers": prices.TOLL_FREE_NUMBER_MONTH.of(numbers),
    }


def main() -> None:
    per_unit = units()
    source = "bench/out/counts.json and the tests" if OUT.exists() else "the counts the tests hold"
    print(f"Estimated monthly cost (prices read {prices.READ_ON}, bench/prices.py; counts from {source})")
    estimates = [(name, visits, monthly(visits, numbers, per_unit)) for name, visits, numbers in SCENARIOS]
    header = "".join(f"{f'{name} ({visits:,} visits)':>32}" for name, visits, _ in estimates)
    print(f"  {'':<38}{header}")
    for line in estimates[0][2]:
        print(f"  {line:<38}" + "".join(f"{f'${costs[line]:,.2f}':>32}" for _, _, costs in estimates))
    print(f"  {'total':<38}" + "".join(f"{f'${sum(costs.values()):,.2f}':>32}" for _, _, costs in estimates))
    other = bill(per_unit["Teams call that is not a visit"])
    per_thousand = 1000 * (
        prices.TABLE_TRANSACTIONS.of(other.get("table transactions", 0))
        + prices.QUEUE_CLASS_1.of(other.get("queue class 1", 0))
        + prices.QUEUE_CLASS_2.of(other.get("queue class 2", 0))
        + prices.FLEX_EXECUTIONS.of(other.get("executions", 0))
        + prices.FLEX_GB_SECOND.of(other.get("GB-s", 0))
    )
    print(f"  a Teams call of the tenant that is not a visit: ${per_thousand:.2f} per 1,000 (past the free grants)")
    assumed = [name for name, price in prices.ALL.items() if price.assumed]
    print(f"  assumed prices (check them on their pages): {', '.join(assumed)}")
    received = prices.SMS_RECEIVE_SEGMENT.usd + prices.SMS_RECEIVE_SURCHARGE.usd
    print(f"  not in the totals: texts patients send (STOP, START), ${received:.4f} a segment with the surcharge;")
    print("  Graph and EHR calls, which are not metered (counted by the bench and the tests)")


if __name__ == "__main__":
    main()
