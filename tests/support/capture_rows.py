"""Keep the rows this version of the connector writes, as it writes them: `python -m tests.support.capture_rows`
runs the dev host on an Azurite of its own, walks `make demo` through it (organisation, endpoint, approval,
certificate, consents, phone number, texts, a visit with its events, writeback settings), adds a STOP opt-out and
a guest invite as the app stores them, and writes every table's rows to tests/fixtures/rows/<version>/<table>.json
in the table service's typed JSON (shared/storage/rows.py). Run it before each release, with shared.__version__
set to that release; tests/integration/test_stored_rows.py then reads every version's rows with today's code."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from dev.host.azurite import Azurite, free_port
from dev.host.local_settings import apply_values, load_values
from shared import __version__
from shared.storage.rows import read_rows

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "rows"
ACCOUNTS = {"connectorapp": "app", "connectorus": "US", "connectoreu": "EU", "connectorapac": "APAC"}


def environment(azurite: Azurite) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    values |= {
        "AzureWebJobsStorage": azurite.connection_string("connectorapp"),
        "SECRETS_PROVIDER": "env",
        "SECRET_JOIN_LINK_KEY": secrets.token_urlsafe(32),
        "SECRET_OPT_OUT_KEY": secrets.token_urlsafe(32),
    }
    for geography in ("US", "EU", "APAC"):
        account = azurite.connection_string(f"connector{geography.lower()}")
        values[f"DATA_STORAGE_{geography}"] = values[f"DATA_QUEUES_{geography}"] = account
    return values


def walk(env: dict[str, str]) -> None:
    ports = [free_port() for _ in range(3)]
    missing = ROOT / "tests" / "fixtures" / "no-such-settings.json"  # the sample's settings
    host = subprocess.Popen(
        [sys.executable, "-m", "dev", "--settings", str(missing), "--port", str(ports[0])]
        + ["--ehr-port", str(ports[1]), "--identity-port", str(ports[2])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        api = f"http://localhost:{ports[0]}"
        for _ in range(120):
            try:
                if httpx.get(f"{api}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        demo = [sys.executable, "-m", "dev.demo", "--api", api, "--ehr", f"http://localhost:{ports[1]}"]
        subprocess.run(demo + ["--identity", f"http://localhost:{ports[2]}"], cwd=ROOT, env=env, check=True)
        time.sleep(5)  # the queues settle
    finally:
        host.terminate()
        host.wait(30)


def add_what_the_demo_does_not(env: dict[str, str]) -> None:
    """A STOP opt-out and a guest invite, written by today's code as the app writes them."""
    os.environ.update(env)
    apply_values(load_values(ROOT / "local.settings.sample.json"), os.environ)
    from shared.core.settings import Geography, load_settings
    from shared.messaging.models import OptOut
    from shared.messaging.tables import OptOutRepository, PhoneNumberRepository
    from shared.runtime import Runtime
    from shared.visits.models import VisitInvite
    from shared.visits.tables import AppointmentRepository, VisitInviteRepository

    runtime = Runtime(load_settings())
    tables = runtime.platform.tables
    sender = next(tables.control(PhoneNumberRepository).iterate()).number
    now = datetime.now(UTC)
    opt_out = OptOut(number_hash=runtime.messaging.sms.number_hash("+12025550143"), sender=sender, opted_out_at=now)
    tables.in_geography(Geography.US, OptOutRepository).upsert(opt_out)
    appointment = next(tables.in_geography(Geography.US, AppointmentRepository).iterate())
    invite = VisitInvite(
        appointment_key=appointment.appointment_key,
        id=secrets.token_hex(8),
        endpoint_id=appointment.endpoint_id,
        role="interpreter",
        phone="+12025550177",
        texted=True,
        created_at=now,
        ends_at=now + timedelta(hours=2),
    )
    tables.in_geography(Geography.US, VisitInviteRepository).upsert(invite)


def dump(azurite: Azurite, target: Path) -> None:
    from azure.data.tables import TableServiceClient

    target.mkdir(parents=True, exist_ok=True)
    for account, where in ACCOUNTS.items():
        service = TableServiceClient.from_connection_string(azurite.connection_string(account))
        for table in service.list_tables():
            rows = sorted(
                read_rows(service.get_table_client(table.name)), key=lambda r: (r["PartitionKey"], r["RowKey"])
            )
            if rows:
                document = {"table": table.name, "account": where, "rows": rows}
                (target / f"{table.name}.json").write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
                print(f"{table.name}: {len(rows)} rows ({where})")


def main() -> int:
    with Azurite() as azurite:
        env = environment(azurite)
        walk(env)
        add_what_the_demo_does_not(env)
        dump(azurite, FIXTURES / __version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
