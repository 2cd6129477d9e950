"""`func start` works with local.settings.sample.json alone: the app indexes with only its Values (as the
Functions host hands them to the worker), finds every function, and its settings pass the full validation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dev.host.local_settings import LOCAL_SECRETS, NOWHERE, load_values, offline_values, write_local_settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "local.settings.sample.json"
INDEX = """
import json, function_app
from shared.core.settings import load_settings
load_settings()  # what the first run of a function validates
print(json.dumps({
    f.get_function_name(): sorted(getattr(b, "connection", None) or "" for b in f.get_bindings())
    for f in function_app.app.get_functions()
}))
"""


def index(values: dict[str, str]) -> dict[str, list[str]]:
    """The functions the app declares with exactly these settings, and the connection each binding names."""
    result = subprocess.run(
        [sys.executable, "-c", INDEX], cwd=ROOT, env=values, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found: dict[str, list[str]] = json.loads(result.stdout)
    return found


def test_the_app_indexes_with_only_the_sample_settings_and_finds_every_function() -> None:
    sample = load_values(SAMPLE)
    found = index(sample)
    # Every function: those of a deployment with every geography, less the other geographies' queue triggers.
    every = index({**offline_values(), "DATA_STORAGE_US": NOWHERE, "DATA_STORAGE_APAC": NOWHERE})
    assert set(found) == {name for name in every if not name.endswith(("_eu", "_apac"))}
    assert len(found) >= 25 and any(name.endswith("_us") for name in found), sorted(found)
    for name, connections in found.items():  # the Functions host resolves each binding's connection setting
        for connection in filter(None, connections):
            assert sample.get(connection), f"{name}: its connection {connection} is empty in the sample"
    assert sample["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"  # Azurite on its default ports


def test_telemetry_settings_are_listed_and_empty() -> None:
    sample = load_values(SAMPLE)
    for name in (
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_SERVICE_NAME",
    ):
        assert sample[name] == "", name
        assert f"`{name}`" in (ROOT / "README.md").read_text(), f"{name} is not documented in the README"


def test_local_settings_get_their_own_secrets_and_the_repository_none(tmp_path: Path) -> None:
    assert all(load_values(SAMPLE)[name] == "" for name in LOCAL_SECRETS)
    written = [tmp_path / "a.json", tmp_path / "b.json"]
    for target in written:
        write_local_settings(SAMPLE, target)
    first, second = (load_values(path) for path in written)
    assert all(len(first[name]) >= 32 and first[name] != second[name] for name in LOCAL_SECRETS)
    assert {k: v for k, v in first.items() if k not in LOCAL_SECRETS} == {
        k: v for k, v in load_values(SAMPLE).items() if k not in LOCAL_SECRETS
    }
