"""local.settings.json, as the Functions host reads it: its `Values` become environment variables, except
where the environment already sets them."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from pathlib import Path


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
