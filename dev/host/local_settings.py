"""local.settings.json, as the Functions host reads it: its `Values` become environment variables, except
where the environment already sets them.

`python -m dev.host.local_settings` (what `make local.settings.json`, and so `make run`, runs) writes it from
local.settings.sample.json with this machine's own local secrets, which the repository never holds: the join-link
and opt-out keys, kept from run to run so that links and opt-outs in a persistent Azurite stay valid."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import MutableMapping
from pathlib import Path

LOCAL_SECRETS = ("SECRET_JOIN_LINK_KEY", "SECRET_OPT_OUT_KEY")


def load_values(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text())
    values = data.get("Values", {})
    if not isinstance(values, dict):
        raise ValueError(f"{path}: Values must be an object of strings")
    return {str(k): "" if v is None else str(v) for k, v in values.items()}


def apply_values(values: dict[str, str], environ: MutableMapping[str, str]) -> None:
    for key, value in values.items():
        if not environ.get(key):
            environ[key] = value


# An Azurite-shaped connection string to nowhere: enough to import and index the app without any service.
NOWHERE = "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:1/a;"


def offline_values() -> dict[str, str]:
    """Settings that pass validation with no service running (cold-start measurements, import tests)."""
    return {
        "ENVIRONMENT": "local",
        "AzureWebJobsStorage": NOWHERE,
        "DATA_STORAGE_EU": NOWHERE,
        "DATA_QUEUES_EU": NOWHERE,
        "PUBLIC_BASE_URL": "http://localhost:7071",
        "PORTAL_API_AUDIENCE": "api://ehr-connector-local",
        "MEETING_PROVIDER": "local",
        "SMS_PROVIDER": "outbox",
        "SECRETS_PROVIDER": "env",
    }


def write_local_settings(sample: Path, target: Path) -> None:
    """`target` from `sample`, each empty local secret made here."""
    data = json.loads(sample.read_text())
    values = data.setdefault("Values", {})
    for name in LOCAL_SECRETS:
        values[name] = values.get(name) or secrets.token_urlsafe(32)
    target.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[2]
    write_local_settings(
        root / "local.settings.sample.json", root / (sys.argv[1] if len(sys.argv) > 1 else "local.settings.json")
    )
