"""`import function_app` stays light: no heavy SDK is imported until a function needs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("msgraph", "azure.communication", "azure.keyvault", "azure.identity", "azure.data.tables", "azure.storage")
AZURITE_LIKE = "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:1/a;"


def test_importing_the_app_loads_no_heavy_sdk() -> None:
    env = {
        **os.environ,
        "ENVIRONMENT": "local",
        "AzureWebJobsStorage": AZURITE_LIKE,
        "DATA_STORAGE_EU": AZURITE_LIKE,
        "MEETING_PROVIDER": "local",
        "SMS_PROVIDER": "outbox",
        "SECRETS_PROVIDER": "env",
    }
    script = "import sys, json, function_app; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    modules = json.loads(result.stdout)
    loaded = [m for m in modules if m.startswith(HEAVY)]
    assert loaded == []


def test_importing_the_app_without_settings_fails_naming_the_setting() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"ENVIRONMENT", "MEETING_PROVIDER"}}
    env.update({"AzureWebJobsStorage": AZURITE_LIKE, "DATA_STORAGE_EU": AZURITE_LIKE, "SMS_PROVIDER": "outbox"})
    env.update({"SECRETS_PROVIDER": "env"})
    result = subprocess.run(
        [sys.executable, "-c", "import function_app"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "Missing required setting ENVIRONMENT" in result.stderr
    assert "Missing required setting MEETING_PROVIDER" in result.stderr
