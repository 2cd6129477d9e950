"""The soak: the whole pipeline under duplicates, disorder, bursts and crashes at once, then checked by the data.

Signed SIU messages (S12, S13, S14, S15, S17, S26) for the appointments of two organisations, one in the US
geography and one in the EU, go from 8 concurrent senders (an interface engine's connections: each resends a
message until it is acknowledged) to two dev-host instances behind one port, which also consume every queue. 20%
of the messages are sent twice (same control ID), some arrive after a newer one of their appointment, some
appointments are cancelled and booked again, some moved into the reminder window while the soak runs, some
cancellations are refused (dated ahead of the connector's clock), some patients have texted STOP; a share of the
visits have their call events queued for writeback. During the run: one instance is killed (SIGKILL) and started
again; Azurite is stopped for 10 s and started again with the same data; the SMS stub answers 2% of sends 500 and
throttles (429) over its per-number limit; the EHR's writeback receiver is down for 30 s.

Once the queues are empty, bench/soak_checks.py checks the stored data and the stubs' logs (never the app's logs)
and scans every table, queue and log line for what must not be kept. Every "missing", "duplicated" and "privacy
finding" printed must be 0.

Run: .venv/bin/python bench/soak.py   (2,000 appointments, about 10,000 messages)
     .venv/bin/python bench/soak.py --appointments 120   (the short form make test runs, tests/soak)
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORKER_LEASE = 20  # seconds a received message stays invisible: a killed instance's messages come back then
AZURITE_DOWN = 10.0
EHR_DOWN = 30.0
SENDERS = 8


def worker(name: str, port: int, timers: bool) -> None:
    """One instance: the dev host serving HTTP on the shared port, consuming every queue, and (on one instance
    only, as Azure's timer singleton lock has it) firing the timers; texts go to the ACS stub."""
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {name} %(name)s %(levelname)s %(message)s")
    from azure.core.credentials import AzureKeyCredential
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    # Every span, one JSON line each, in the background (as an exporter sends them): the app finds the provider
    # set, as it finds the Functions worker's in Azure.
    spans = Path(os.environ["SOAK_SPANS"]).open("w")  # noqa: SIM115 - open until the process ends
    exporter = ConsoleSpanExporter(out=spans, formatter=lambda span: span.to_json(indent=None) + "\n")
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=20000))
    trace.set_tracer_provider(provider)

    import function_app
    from dev.host.host import DevHost, HostConfig, HostKeys
    from dev.host.serving import BackgroundTask, ServerThread
    from shared.messaging.providers.acs import AcsSmsSender
    from shared.runtime import get_runtime

    get_runtime().use(
        sms_sender=AcsSmsSender.connect(os.environ["ACS_ENDPOINT"], AzureKeyCredential(os.environ["SOAK_ACS_KEY"]))
    )
    config = HostConfig.load(ROOT / "host.json")
    queues = config.queues.__class__(**{**config.queues.__dict__, "parallel": True, "message_lease": WORKER_LEASE})
    host = DevHost(function_app.app, keys=HostKeys(("k",), "m"), environ=os.environ, config=HostConfig(queues=queues))
    tasks: list[BackgroundTask] = [host.queues.run_forever]
    if timers:
        tasks.append(host.timers.run_forever)
    ServerThread(host.web_application(), port=port, reuse_port=True, tasks=tasks).start()
    Path(os.environ["SOAK_READY"]).write_text("ready")
    signal.pause()


@dataclass
class Instance:
    name: str
    port: int
    timers: bool
    logs: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        ready = self.logs / f"{self.name}.ready"
        ready.unlink(missing_ok=True)
        self.starts += 1
        output = (self.logs / f"{self.name}-{self.starts}.log").open("wb")
        command = [sys.executable, __file__, "--worker", self.name, "--port", str(self.port)]
        spans = self.logs / f"{self.name}-{self.starts}.spans"
        environment = {**os.environ, "SOAK_READY": str(ready), "SOAK_SPANS": str(spans)}
        self.process = subprocess.Popen(
            [*command, *(["--timers"] if self.timers else [])], env=environment, cwd=ROOT, stdout=output, stderr=output
        )
        deadline = time.monotonic() + 120
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Instance {self.name} did not start; see {output.name}")
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Faults:
    """What was injected, for the printout."""

    injected: list[str] = field(default_factory=list)
    began: float = field(default_factory=time.monotonic)

    def note(self, text: str) -> None:
        at = datetime.now(UTC)
        self.injected.append(f"{time.monotonic() - self.began:5.0f} s  ({at:%H:%M:%S})  {text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appointments", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=36)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--timers", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.port, args.timers)
        return 0
    from bench.soak_run import run

    report = run(args.appointments, seed=args.seed)
    print(report.text())
    if report.clean:
        shutil.rmtree(report.logs, ignore_errors=True)
        return 0
    print(f"  the instances' logs and spans are kept in {report.logs}")
    return 1


def acs_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="soak-"))


if __name__ == "__main__":
    sys.exit(main())
