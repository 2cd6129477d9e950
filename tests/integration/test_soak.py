"""The soak's short form (bench/soak.py --appointments 120): two organisations (EU and US) and two instances under
duplicated and reordered SIU messages, an instance killed, Azurite stopped and started, the SMS stub failing and
throttling and the EHR's writeback receiver down, all at once; then the stored data, the stubs' logs and every
table, queue, log line and span are checked. Nothing lost, nothing twice, nothing kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_nothing_lost_nothing_twice_nothing_kept_under_duplicates_disorder_and_faults() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak.py"), "--appointments", "120"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(run.stdout)  # the printout, shown when the test fails (and with -s)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-6000:]
    assert "missing 0, duplicated 0" in run.stdout
    assert "privacy findings:                0" in run.stdout
