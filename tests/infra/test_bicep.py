"""infra/ without a Bicep compiler: every file parses (tree-sitter-bicep), checkov's bicep framework finds no
parsing error and no unexplained failed check, and main.bicep wires what the app needs."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from shared.core.settings import Geography, Settings
from tests.support.bicep import BicepFile, for_loop_source, string_values

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
FILES = sorted(INFRA.rglob("*.bicep"))
MAIN = BicepFile(INFRA / "main.bicep")
STORAGE = BicepFile(INFRA / "modules" / "storage.bicep")

# Settings the app reads that Azure does not get, and why.
NOT_IN_AZURE = {
    "AzureWebJobsStorage": "an Azurite connection string; Azure uses AzureWebJobsStorage__accountName",
    "LOCAL_ISSUER_URL": "the dev sign-in, refused outside ENVIRONMENT=local",
    "DATA_STORAGE_US": "set per enabled geography by the geographySettings loop",
    "DATA_STORAGE_EU": "set per enabled geography by the geographySettings loop",
    "DATA_STORAGE_APAC": "set per enabled geography by the geographySettings loop",
}
ROLE_IDS = {
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
}


def test_there_is_a_deployment() -> None:
    assert len(FILES) >= 8
    assert (ROOT / "azure.yaml").is_file()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_bicep_file_parses(path: Path) -> None:
    parsed = BicepFile(path)
    assert not parsed.has_errors, parsed.errors()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_parameter_and_output_is_described_and_every_module_exists(path: Path) -> None:
    parsed = BicepFile(path)
    for declaration in parsed.of_kind("parameter") + parsed.of_kind("output"):
        assert "@description(" in declaration.decorators, f"{declaration.kind} {declaration.name} has no @description"
    for module in parsed.of_kind("module"):
        assert parsed.module_path(module).is_file(), f"module {module.name}: {parsed.module_path(module)} is missing"


def test_every_setting_the_app_reads_is_set() -> None:
    settings = string_values(MAIN.get("variable", "staticSettings").node, "name")
    aliases = Settings.names()
    missing = sorted(aliases - set(settings) - set(NOT_IN_AZURE))
    assert missing == [], f"app settings missing from main.bicep: {missing}"
    assert {"AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential"} <= set(settings)
    geography_settings = MAIN.get("variable", "geographySettings")
    assert for_loop_source(geography_settings) == "for (geography, index) in geographies"
    assert string_values(geography_settings.node, "name") == ["DATA_STORAGE_${toUpper(geography.name)}"]
    assert "geographyQueueUris" in MAIN.get("module", "functionApp").source


def test_each_geography_queue_trigger_connects_to_its_own_account_with_the_identity() -> None:
    app_settings = MAIN.get("module", "functionApp").source
    for variable, suffix in (
        ("geographyQueueUris", "queueServiceUri"),
        ("geographyQueueCredentials", "credential"),
        ("geographyQueueClientIds", "clientId"),
    ):
        block = MAIN.get("variable", variable)
        assert string_values(block.node, "name") == [f"DATA_QUEUES_${{toUpper(geography.name)}}__{suffix}"]
        assert variable in app_settings
    assert "dataStorage[index].outputs.queueEndpoint" in MAIN.get("variable", "geographyQueueUris").source
    assert "'managedidentity'" in MAIN.get("variable", "geographyQueueCredentials").source
    assert "account.properties.primaryEndpoints.queue" in STORAGE.get("output", "queueEndpoint").source


def test_every_geography_gets_a_storage_account_with_its_roles() -> None:
    data = MAIN.get("module", "dataStorage")
    assert for_loop_source(data) == "for geography in geographies"
    assert MAIN.module_path(data) == STORAGE.path
    assert "location: geography.location" in data.source
    assert "principalId: identity.outputs.principalId" in data.source
    assignments = [r for r in STORAGE.of_kind("resource") if "Microsoft.Authorization/roleAssignments@" in r.source]
    named = {r.comment.removeprefix("// ").split(" (")[0]: r for r in assignments}
    for role, role_id in ROLE_IDS.items():
        assert role in named, f"storage.bicep grants no {role}"
        assert "name: guid(" in named[role].source
        variable = re.search(r"roleDefinitions', (\w+)\)", named[role].source)
        assert variable and STORAGE.get("variable", variable.group(1)).source.endswith(f"'{role_id}'")
        assert " if (" not in named[role].source.split("=", 1)[1].split("{", 1)[0]  # unconditional
    account = STORAGE.get("resource", "account").source
    for setting in ("allowSharedKeyAccess: false", "minimumTlsVersion: 'TLS1_2'", "supportsHttpsTrafficOnly: true"):
        assert setting in account


def test_key_vault_is_rbac_with_purge_protection_and_the_identity_reads_and_writes_secrets() -> None:
    vault = BicepFile(INFRA / "modules" / "keyvault.bicep")
    source = vault.get("resource", "vault").source
    for setting in ("enableRbacAuthorization: true", "enableSoftDelete: true", "enablePurgeProtection: true"):
        assert setting in source
    officer = vault.get("resource", "secretsOfficer")  # writes each organisation's writeback signing key
    assert officer.comment == "// Key Vault Secrets Officer" and "name: guid(" in officer.source
    assert "b86a8fe4-44ce-4948-aee5-eccb2c155cd7" in vault.get("variable", "keyVaultSecretsOfficer").source


@pytest.mark.parametrize("name", ["test", "prod"])
def test_parameter_files_fit_main(name: str) -> None:
    values = json.loads((INFRA / "parameters" / f"{name}.json").read_text())["parameters"]
    declared = {p.name: p for p in MAIN.of_kind("parameter")}
    assert set(values) <= set(declared), f"unknown parameters: {set(values) - set(declared)}"
    required = {n for n, p in declared.items() if "=" not in p.source}
    assert required <= set(values), f"{name}.json lacks {required - set(values)}"
    assert values["environmentName"]["value"] == name
    geographies = values["geographies"]["value"]
    assert {g["name"] for g in geographies} <= {g.value for g in Geography}
    if name == "prod":
        assert {g["name"] for g in geographies} == {"US", "EU", "APAC"}
        assert len({g["location"] for g in geographies}) == 3


def test_checkov_finds_no_parsing_error_and_no_unexplained_failure() -> None:
    checkov = str(ROOT / os.environ.get("CHECKOV", ".venv-checkov/bin/checkov"))  # an absolute one stays as it is
    if not Path(checkov).exists():
        pytest.fail(f"{checkov} is missing: `make test` installs checkov in .venv-checkov")
    result = subprocess.run(
        [checkov, "-d", str(INFRA), "--framework", "bicep", "-o", "json", "--skip-download"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=INFRA,
    )
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    summary = report["summary"]
    # checkov exits 0 even when it cannot parse a file: the summary says so.
    assert summary["parsing_errors"] == 0, summary
    failed = [(c["check_id"], c["file_path"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert summary["resource_count"] >= 20
    for skipped in report["results"]["skipped_checks"]:
        reason = (skipped.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason.strip()) > 20, f"{skipped['check_id']} in {skipped['file_path']} is skipped without a reason"


def _diagnostics(file: BicepFile, scope: str) -> str:
    settings = [
        r.source
        for r in file.of_kind("resource")
        if "Microsoft.Insights/diagnosticSettings@" in r.source and f"scope: {scope}\n" in r.source
    ]
    assert len(settings) == 1, f"{file.path.name}: one diagnostic setting for {scope}"
    assert "workspaceId: workspaceId" in settings[0]
    return settings[0]


def test_audit_data_and_function_logs_go_to_log_analytics() -> None:
    vault = _diagnostics(BicepFile(INFRA / "modules" / "keyvault.bicep"), "vault")
    assert "category: 'AuditEvent', enabled: true" in vault
    for service in ("queueService", "tableService"):
        logs = _diagnostics(STORAGE, service)
        for category in ("StorageRead", "StorageWrite", "StorageDelete"):
            assert f"category: '{category}', enabled: true" in logs
    app = _diagnostics(BicepFile(INFRA / "modules" / "functionapp.bicep"), "app")
    assert "category: 'FunctionAppLogs', enabled: true" in app
    # Every storage account (the app's and each geography's), the vault and the app send to the one workspace.
    for module in ("appStorage", "dataStorage", "vault", "functionApp", "alerts"):
        assert "workspaceId: monitoring.outputs.workspaceId" in MAIN.get("module", module).source, module
    # The checkov skip that says queue logging goes through diagnostic settings is true now.
    assert "CKV_AZURE_33: Queue service logging is collected through diagnostic settings" in STORAGE.path.read_text()


ALERT_LOG_LINES = {
    # alert key: (where the app logs it, the log format, the alert query's match on it)
    "poison-queues": (
        "shared/storage/poison.py",
        '"Poison queue %s: %d purged, %d waiting"',
        'parse Message with "Poison queue " Queue ": " Purged:long " purged, " Waiting:long " waiting"',
    ),
    "failed-writebacks": (
        "shared/writeback/failures.py",
        '"Writeback of event %s for endpoint %s failed (attempt %d, %s)"',
        'Message startswith "Writeback of event " and Message has " failed (attempt "',
    ),
    "failed-texts": (
        "shared/messaging/dispatch.py",
        '"SMS %s for endpoint %s failed: %s"',
        'Message startswith "SMS " and Message has " failed: "',
    ),
}


def test_alerts_cover_poison_queues_failed_writebacks_failed_texts_and_server_errors() -> None:
    alerts = BicepFile(INFRA / "modules" / "alerts.bicep")
    assert MAIN.module_path(MAIN.get("module", "alerts")) == alerts.path
    assert "alertEmails: alertEmails" in MAIN.get("module", "alerts").source
    rules = alerts.get("variable", "rules").source
    keys = re.findall(r"key: '([a-z-]+)'", rules)
    assert keys == ["poison-queues", "failed-writebacks", "failed-texts", "server-errors"]
    for key, (module, log_format, match) in ALERT_LOG_LINES.items():
        assert log_format in (ROOT / module).read_text(), f"{module} no longer logs {log_format}"
        assert match in rules, key
    assert "countif(toint(ResultCode) >= 500)" in rules and "${serverErrorPercent}" in rules
    rule = alerts.get("resource", "alerts").source
    assert "for rule in rules" in rule and "actionGroups: [actionGroup.id]" in rule
    assert "kind: 'LogAlert'" in rule and "scopes: [workspaceId]" in rule
    group = alerts.get("resource", "actionGroup").source
    assert "for (address, index) in alertEmails" in group
