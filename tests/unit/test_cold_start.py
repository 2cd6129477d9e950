"""`import function_app` stays light: no heavy SDK, no pydantic model and no service is imported until a function
needs it (bench/import_time.py measures it); a missing setting still stops the app as it starts."""

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
    "babel",
    "azure.communication",
    "azure.keyvault",
    "azure.identity",
    "azure.data.tables",
    "azure.storage",
    "pydantic",
    "pydantic_settings",
    "shared.core.settings",
    "shared.platform",
    "functions.portal.router",
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


def test_the_start_check_names_the_same_required_settings_as_the_settings_models() -> None:
    from shared.core.settings import Settings
    from shared.core.startup import REQUIRED

    required = {
        field.alias or name
        for group in Settings.groups().values()
        for name, field in group.model_fields.items()
        if field.is_required()
    }
    assert set(REQUIRED) == required


def test_a_bad_setting_value_fails_the_first_run_naming_the_setting() -> None:
    """The values are validated when a function first runs: the health check says which setting is wrong."""
    env = {**os.environ, **offline_values(), "SMS_RATE_GEOGRAPHIC_PER_MINUTE": "many"}
    script = (
        "import json, function_app, azure.functions as func\n"
        "from functions.health import health\n"
        "r = health(func.HttpRequest('GET', '/api/health', body=b''))\n"
        "print(r.status_code, json.loads(r.get_body())['detail'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("500 ")
    assert "SMS_RATE_GEOGRAPHIC_PER_MINUTE" in result.stdout
