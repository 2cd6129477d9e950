"""`import function_app` stays light: no heavy SDK is imported until a function needs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dev.host.local_settings import offline_values

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "msgraph",
    "httpx",
    "jwt",
    "cryptography",
    "phonenumbers",
    "hl7",
    "azure.communication",
    "azure.keyvault",
    "azure.identity",
    "azure.data.tables",
    "azure.storage",
)


def test_importing_the_app_loads_no_heavy_sdk() -> None:
    env = {**os.environ, **offline_values()}
    script = "import sys, json, function_app; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    modules = json.loads(result.stdout)
    loaded = [m for m in modules if m.startswith(HEAVY)]
    assert loaded == []


def test_importing_the_app_without_settings_fails_naming_the_setting() -> None:
    env = {**os.environ, **offline_values()}
    del env["ENVIRONMENT"], env["MEETING_PROVIDER"]
    result = subprocess.run(
        [sys.executable, "-c", "import function_app"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "Missing required setting ENVIRONMENT" in result.stderr
    assert "Missing required setting MEETING_PROVIDER" in result.stderr
